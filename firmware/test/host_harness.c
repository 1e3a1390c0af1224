/* Host test driver for the portable core, built with the system cc under
 * AddressSanitizer and UBSan (make host-test). It reads one command per line
 * on stdin and answers one line on stdout, so Python tests can check it
 * against the Python codec and the generated test vectors:
 *   crc HEX | cobs_enc HEX | cobs_dec HEX
 *   wire HEX       feed bytes to a fresh frame decoder; per frame "OK id seq payload rewire" or
 *                  "ERR unknown|length"; then "STATS frames cobs crc oversize"
 *   dev HEX        feed bytes to the device (one instance for the whole run); print its output hex
 *   tick US        set the device clock and run its time-driven work; print output hex
 *   out            print the stimulator current in uA
 *   stim           print the output stage's last command: "current_ua frequency_mhz pulse_width_us"
 *   boot           power the device up again (fresh state, no session); print "ok"
 *   poke_pw US     overwrite the stored pulse width behind the checks' back (a memory fault),
 *                  to test the output stage's last line of defence; print nothing but "ok" */
#include <stdio.h>
#include <string.h>

#include "fes_cobs.h"
#include "fes_crc16.h"
#include "fes_device.h"
#include "fes_frame.h"
#include "fes_msg.h"
#include "host_port.h"

#define MAX_BYTES 8192

static size_t parse_hex(const char *s, uint8_t *out, size_t cap)
{
    size_t n = 0;
    while (s[0] && s[1] && n < cap) {
        unsigned v;
        if (sscanf(s, "%2x", &v) != 1) {
            break;
        }
        out[n++] = (uint8_t)v;
        s += 2;
    }
    return n;
}

static void print_hex(const uint8_t *b, size_t n)
{
    for (size_t i = 0; i < n; ++i) {
        printf("%02x", b[i]);
    }
}

static void cmd_wire(const uint8_t *b, size_t n)
{
    fes_frame_decoder_t d;
    fes_frame_decoder_init(&d);
    for (size_t i = 0; i < n; ++i) {
        fes_frame_t f;
        if (!fes_frame_feed(&d, b[i], &f)) {
            continue;
        }
        fes_msg_t m;
        fes_unpack_result_t r = fes_msg_unpack(&f, &m);
        if (r != FES_UNPACK_OK) {
            printf("ERR %s ", r == FES_UNPACK_UNKNOWN_ID ? "unknown" : "length");
            continue;
        }
        uint8_t wire[FES_MAX_WIRE_FRAME];
        size_t wn = fes_msg_pack(&m, wire, sizeof wire);
        printf("OK %u %u ", m.msg_id, m.seq);
        print_hex(f.payload, f.payload_len);
        printf(" ");
        print_hex(wire, wn);
        printf(" ");
    }
    printf("STATS %u %u %u %u\n", (unsigned)d.stats.frames, (unsigned)d.stats.cobs_errors,
           (unsigned)d.stats.crc_errors, (unsigned)d.stats.oversize);
}

static void print_tx(void)
{
    static uint8_t tx[1u << 16];
    size_t n = host_port_take_tx(tx, sizeof tx);
    print_hex(tx, n);
    printf("\n");
}

int main(void)
{
    static char line[2 * MAX_BYTES + 64];
    static uint8_t buf[MAX_BYTES];
    static uint8_t out[MAX_BYTES + MAX_BYTES / 254u + 2u];
    static fes_device_t dev;
    uint64_t now_us = 0;

    fes_port_init();
    fes_device_init(&dev, now_us);
    setvbuf(stdout, NULL, _IOLBF, 0);
    while (fgets(line, sizeof line, stdin)) {
        char cmd[16] = {0};
        char *arg = strchr(line, ' ');
        arg = arg ? arg + 1 : line + strlen(line);
        sscanf(line, "%15s", cmd);
        size_t n = parse_hex(arg, buf, sizeof buf);
        size_t on = 0;
        if (strcmp(cmd, "crc") == 0) {
            printf("%04x\n", fes_crc16(buf, n));
        } else if (strcmp(cmd, "cobs_enc") == 0 || strcmp(cmd, "cobs_dec") == 0) {
            bool ok = cmd[5] == 'e' ? fes_cobs_encode(buf, n, out, sizeof out, &on)
                                    : fes_cobs_decode(buf, n, out, sizeof out, &on);
            if (ok) {
                print_hex(out, on);
                printf("\n");
            } else {
                printf("ERR\n");
            }
        } else if (strcmp(cmd, "wire") == 0) {
            cmd_wire(buf, n);
        } else if (strcmp(cmd, "dev") == 0) {
            for (size_t i = 0; i < n; ++i) {
                fes_device_rx_byte(&dev, buf[i], now_us);
            }
            print_tx();
        } else if (strcmp(cmd, "tick") == 0) {
            unsigned long long t = 0;
            sscanf(arg, "%llu", &t);
            now_us = t;
            host_port_set_time(now_us);
            fes_device_tick(&dev, now_us);
            print_tx();
        } else if (strcmp(cmd, "boot") == 0) {
            fes_port_init();
            fes_device_init(&dev, now_us);
            printf("ok\n");
        } else if (strcmp(cmd, "poke_pw") == 0) {
            float pw = 0.0f;
            sscanf(arg, "%f", &pw);
            dev.cfg.pulse_width_us = pw;
            printf("ok\n");
        } else if (strcmp(cmd, "out") == 0) {
            printf("%lu\n", (unsigned long)host_port_stim()->current_ua);
        } else if (strcmp(cmd, "stim") == 0) {
            const fes_port_stim_t *st = host_port_stim();
            printf("%lu %lu %u\n", (unsigned long)st->current_ua, (unsigned long)st->frequency_mhz,
                   (unsigned)st->pulse_width_us);
        } else {
            printf("?\n");
        }
    }
    return 0;
}
