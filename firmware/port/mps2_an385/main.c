/* Super-loop: the application polls, then the core sleeps until the next
 * interrupt (UART byte or 1 ms SysTick). */
#include "fes_app.h"
#include "fes_port.h"

int main(void)
{
    fes_port_init();
    fes_app_init();
    for (;;) {
        fes_app_poll();
        fes_port_idle();
    }
}
