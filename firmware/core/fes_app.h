/* Application glue for a bare-metal super-loop: one device instance fed from
 * the port's UART and clock. */
#ifndef FES_APP_H
#define FES_APP_H

void fes_app_init(void);
/* Drain received bytes, then run the time-driven work; call from the main loop. */
void fes_app_poll(void);

#endif
