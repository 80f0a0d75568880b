/* Unit tests for the SQLite store (gateway/store.h): crash safety, with a
 * child process that exits without closing or is killed with SIGKILL. */
#include <signal.h>
#include <sys/wait.h>

#include "store_fixture.h"

/* ---- Crash safety ------------------------------------------------------ */

#define CRASH_N 200

static void test_crash_exit_without_close(void **state)
{
    char path[512], wal[600];
    db_path(state, "crash-exit", path, sizeof(path));
    snprintf(wal, sizeof(wal), "%s-wal", path);

    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct store *st = NULL;
        char key[32];
        if (store_open(path, &st, NULL, 0) != 0)
            _exit(2);
        for (int i = 0; i < CRASH_N; i++) {
            snprintf(key, sizeof(key), "k%d", i);
            if (store_in_push(st, "sms", key, "<m/>", NULL) != 0 ||
                store_out_push(st, "sms", "u@x/r", "+15550000001", NULL, "b", NULL, NULL) != 0)
                _exit(3);
        }
        _exit(0); /* no store_free: the WAL is left behind */
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    assert_int_equal(access(wal, F_OK), 0);

    struct store *st = open_ok(path);
    assert_int_equal(in_count(st, "sms"), CRASH_N);
    assert_int_equal(out_count(st, "sms"), CRASH_N);
    assert_int_equal(store_in_push(st, "sms", "k0", "<m/>", NULL), FERRY_EEXIST);
    assert_int_equal(store_in_push(st, "sms", "k199", "<m/>", NULL), FERRY_EEXIST);
    store_free(st);
}

static void test_crash_sigkill(void **state)
{
    char path[512];
    int fds[2];
    db_path(state, "crash-kill", path, sizeof(path));
    assert_int_equal(pipe(fds), 0);

    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct store *st = NULL;
        char key[32];
        int64_t seq;
        close(fds[0]);
        if (store_open(path, &st, NULL, 0) != 0)
            _exit(2);
        /* Report every accepted push; get killed somewhere in the loop. */
        for (int i = 0; i < 100000; i++) {
            snprintf(key, sizeof(key), "k%d", i);
            if (store_in_push(st, "sms", key, "<m/>", &seq) != 0)
                _exit(3);
            if (write(fds[1], &seq, sizeof(seq)) != (ssize_t)sizeof(seq))
                _exit(4);
        }
        pause();
        _exit(5);
    }
    close(fds[1]);
    int64_t *acked = calloc(100000, sizeof(*acked));
    size_t nacked = 0;
    assert_non_null(acked);
    while (nacked < CRASH_N &&
           read(fds[0], &acked[nacked], sizeof(acked[0])) == (ssize_t)sizeof(acked[0]))
        nacked++;
    assert_int_equal(nacked, CRASH_N);
    assert_int_equal(kill(pid, SIGKILL), 0);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    while (nacked < 100000 &&
           read(fds[0], &acked[nacked], sizeof(acked[0])) == (ssize_t)sizeof(acked[0]))
        nacked++;
    close(fds[0]);

    /* Every acknowledged row is there, in order; at most one more (committed
     * but not yet reported) and each row came with its dedupe key. */
    struct store *st = open_ok(path);
    int64_t count = in_count(st, "sms");
    assert_true(count >= (int64_t)nacked && count <= (int64_t)nacked + 1);
    struct seen *s = calloc(1, sizeof(*s));
    assert_non_null(s);
    for (size_t i = 0; i < nacked; i += MAXROWS) {
        memset(s, 0, sizeof(*s));
        int64_t after = i ? acked[i - 1] : 0;
        assert_int_equal(store_in_each(st, "sms", after, MAXROWS, in_cb, s), 0);
        for (int k = 0; k < s->n && i + (size_t)k < nacked; k++)
            assert_int_equal(s->seq[k], acked[i + (size_t)k]);
    }
    char key[32];
    for (int64_t i = 0; i < count; i++) {
        snprintf(key, sizeof(key), "k%lld", (long long)i);
        assert_int_equal(store_in_push(st, "sms", key, "<m/>", NULL), FERRY_EEXIST);
    }
    snprintf(key, sizeof(key), "k%lld", (long long)count);
    assert_int_equal(store_in_push(st, "sms", key, "<m/>", NULL), 0);
    free(s);
    free(acked);
    store_free(st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crash_exit_without_close),
        cmocka_unit_test(test_crash_sigkill),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
