/* Reset handler and vector table for the Cortex-M3 of the MPS2 AN385.
 * No semihosting, no C library start-up: we copy .data, clear .bss and call
 * main(). Every fault turns the stimulator off before anything else. */
#include <stdint.h>

#include "fes_port.h"
#include "mps2_irq.h"

extern uint32_t _sidata, _sdata, _edata, _sbss, _ebss, _estack;

int main(void);

#define AIRCR (*(volatile uint32_t *)0xE000ED0Cu)

void fes_reset_handler(void)
{
    const uint32_t *src = &_sidata;
    for (uint32_t *dst = &_sdata; dst < &_edata; ++dst) {
        *dst = *src++;
    }
    for (uint32_t *dst = &_sbss; dst < &_ebss; ++dst) {
        *dst = 0u;
    }
    (void)main();
    fes_fault_handler();
}

/* Stimulation off, then a system reset: the host sees a new HELLO. */
void fes_fault_handler(void)
{
    fes_port_stim_off();
    AIRCR = 0x05FA0004u; /* VECTKEY | SYSRESETREQ */
    for (;;) {
    }
}

void fes_default_handler(void)
{
    fes_fault_handler();
}

typedef void (*fes_vector_t)(void);

#define D4 fes_default_handler, fes_default_handler, fes_default_handler, fes_default_handler
#define D8 D4, D4

/* 16 core exceptions + the AN385's 32 external interrupts
 * (IRQ 0 = UART0 RX, IRQ 1 = UART0 TX). */
__attribute__((section(".isr_vector"), used))
const fes_vector_t fes_vectors[16 + 32] = {
    (fes_vector_t)(uintptr_t)&_estack,
    fes_reset_handler,
    fes_fault_handler,   /* NMI */
    fes_fault_handler,   /* HardFault */
    fes_fault_handler,   /* MemManage */
    fes_fault_handler,   /* BusFault */
    fes_fault_handler,   /* UsageFault */
    0, 0, 0, 0,
    fes_default_handler, /* SVCall */
    fes_default_handler, /* DebugMon */
    0,
    fes_default_handler, /* PendSV */
    fes_systick_handler,
    fes_uart0_rx_handler, /* IRQ 0 */
    fes_uart0_tx_handler, /* IRQ 1 */
    /* IRQ 2..31 */
    D8, D8, D8, D4, fes_default_handler, fes_default_handler,
};
