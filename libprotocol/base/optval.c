/* optval.c - option and configuration values written as text. */
#include "optval.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int optval_seconds(const char *s, int64_t *ns)
{
    char *end;
    double v = strtod(s, &end);
    if (end == s || *end != '\0' || !isfinite(v) || v < 0 || v > 1e6) {
        return -1;
    }
    *ns = (int64_t)llround(v * 1e9);
    return 0;
}

int optval_dscp(const char *s)
{
    static const struct {
        const char *name;
        int v;
    } names[] = {
        {"NONE", 0},  {"DEFAULT", 0}, {"DF", 0},    {"CS0", 0},   {"CS1", 8},   {"AF11", 10},
        {"AF12", 12}, {"AF13", 14},   {"CS2", 16},  {"AF21", 18}, {"AF22", 20}, {"AF23", 22},
        {"CS3", 24},  {"AF31", 26},   {"AF32", 28}, {"AF33", 30}, {"CS4", 32},  {"AF41", 34},
        {"AF42", 36}, {"AF43", 38},   {"CS5", 40},  {"EF", 46},   {"CS6", 48},  {"CS7", 56},
    };
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (strcasecmp(s, names[i].name) == 0) {
            return names[i].v;
        }
    }
    char *end;
    long v = strtol(s, &end, 0);
    return (end != s && *end == '\0' && v >= 0 && v <= 63) ? (int)v : -1;
}

int optval_slot(const char *s, bool *exponential, int64_t *interval_ns)
{
    char buf[64];
    size_t n = strlen(s);
    if (n >= sizeof(buf)) {
        return -1;
    }
    memcpy(buf, s, n + 1);
    *exponential = true;
    if (n > 0 && (buf[n - 1] == 'e' || buf[n - 1] == 'f')) {
        *exponential = buf[n - 1] == 'e';
        buf[n - 1] = '\0';
    }
    return optval_seconds(buf, interval_ns);
}

int optval_modes(const char *s, bool twamp, uint32_t *modes)
{
    *modes = 0;
    for (; *s; s++) {
        switch (toupper((unsigned char)*s)) {
        case 'O': *modes |= 1; break;
        case 'A': *modes |= 2; break;
        case 'E': *modes |= 4; break;
        case 'M':
            if (!twamp) {
                return -1;
            }
            *modes |= 8;
            break;
        default: return -1;
        }
    }
    return *modes ? 0 : -1;
}
