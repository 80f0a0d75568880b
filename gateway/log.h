/* Logging: one line per event on stderr, "LEVEL [scope] message".
 * Never pass message bodies, full phone numbers, passwords or tokens at
 * LOG_INFO or above. */
#ifndef FERRY_LOG_H
#define FERRY_LOG_H

enum log_level { LOG_ERROR = 0, LOG_WARN = 1, LOG_INFO = 2, LOG_DEBUG = 3 };

void log_set_level(enum log_level level);
enum log_level log_get_level(void);
/* Parses "error", "warn", "info", "debug"; returns -1 if unknown. */
int log_level_parse(const char *name);
const char *log_level_name(enum log_level level);

/* scope is the module or transport instance name, may be NULL. */
void log_msg(enum log_level level, const char *scope, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define log_error(scope, ...) log_msg(LOG_ERROR, scope, __VA_ARGS__)
#define log_warn(scope, ...) log_msg(LOG_WARN, scope, __VA_ARGS__)
#define log_info(scope, ...) log_msg(LOG_INFO, scope, __VA_ARGS__)
#define log_debug(scope, ...)                                                                      \
    do {                                                                                           \
        if (log_get_level() >= LOG_DEBUG)                                                          \
            log_msg(LOG_DEBUG, scope, __VA_ARGS__);                                                \
    } while (0)

#endif
