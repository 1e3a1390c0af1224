/* Interrupt handlers of the MPS2 AN385 port, named in the vector table. */
#ifndef MPS2_IRQ_H
#define MPS2_IRQ_H

void fes_reset_handler(void);
void fes_fault_handler(void);
void fes_default_handler(void);
void fes_systick_handler(void);
void fes_uart0_rx_handler(void);
void fes_uart0_tx_handler(void);

#endif
