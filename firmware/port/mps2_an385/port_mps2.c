/* Porting layer for the ARM MPS2 AN385 board (Cortex-M3 at 25 MHz) as emulated
 * by QEMU: CMSDK APB UART0 (interrupt-driven, ring buffers both ways), CMSDK
 * TIMER0 free-running at the 25 MHz peripheral clock as the µs timebase (a counter
 * read, so a late or missed interrupt costs no time), SysTick at 1 kHz to wake the idle core, FPGA LED0 as the stimulator output (QEMU
 * has no current source: a real board drives its output stage here), and a synthetic shank sensor for host-in-the-loop mode. */
#include <stdint.h>

#include "fes_port.h"
#include "fes_ring.h"
#include "mps2_irq.h"
#include "mps2_sensor.h"

#define SYSCLK_HZ 25000000u
#define TICK_HZ 1000u
#define SYST_RELOAD_VALUE (SYSCLK_HZ / TICK_HZ - 1u)

/* Cortex-M3 system registers */
#define REG32(a) (*(volatile uint32_t *)(a))
#define SYST_CSR REG32(0xE000E010u)
#define SYST_RVR REG32(0xE000E014u)
#define SYST_CVR REG32(0xE000E018u)
#define NVIC_ISER0 REG32(0xE000E100u)
#define NVIC_IPR0 REG32(0xE000E400u)
#define SCB_SHPR3 REG32(0xE000ED20u)

/* CMSDK APB UART0 */
#define UART0_BASE 0x40004000u
#define UART_DATA REG32(UART0_BASE + 0x00u)
#define UART_STATE REG32(UART0_BASE + 0x04u)
#define UART_CTRL REG32(UART0_BASE + 0x08u)
#define UART_INTCLR REG32(UART0_BASE + 0x0Cu)
#define UART_BAUDDIV REG32(UART0_BASE + 0x10u)
#define UART_STATE_TXFULL 0x1u
#define UART_STATE_RXFULL 0x2u
#define UART_CTRL_TXEN 0x1u
#define UART_CTRL_RXEN 0x2u
#define UART_CTRL_TXINT 0x4u
#define UART_CTRL_RXINT 0x8u
#define UART_INT_TX 0x1u
#define UART_INT_RX 0x2u
#define UART_IRQ_RX 0u
#define UART_IRQ_TX 1u
#define UART_BAUD 115200u

/* CMSDK APB TIMER0: down-counter from RELOAD at the peripheral clock */
#define TIMER0_BASE 0x40000000u
#define TIMER0_CTRL REG32(TIMER0_BASE + 0x00u)
#define TIMER0_VALUE REG32(TIMER0_BASE + 0x04u)
#define TIMER0_RELOAD REG32(TIMER0_BASE + 0x08u)
#define TIMER_CTRL_ENABLE 0x1u

/* FPGA I/O: LED0 lights while the stimulator output is enabled. */
#define FPGAIO_LED REG32(0x40028000u)
/* Serial communication controller: board identification register. */
#define SCC_ID REG32(0x4002FFFCu)

static uint32_t s_last_count;
static uint64_t s_clock_ticks;
static uint8_t s_rx_mem[1024];
static uint8_t s_tx_mem[4096];
static fes_ring_t s_rx;
static fes_ring_t s_tx;

static inline uint32_t irq_save(void)
{
    uint32_t primask;
    __asm volatile("mrs %0, primask\n cpsid i" : "=r"(primask)::"memory");
    return primask;
}

static inline void irq_restore(uint32_t primask)
{
    __asm volatile("msr primask, %0" ::"r"(primask) : "memory");
}

/* SysTick only wakes the core from fes_port_idle once a millisecond. */
void fes_systick_handler(void)
{
}

void fes_uart0_rx_handler(void)
{
    UART_INTCLR = UART_INT_RX;
    while (UART_STATE & UART_STATE_RXFULL) {
        uint8_t b = (uint8_t)UART_DATA;
        (void)fes_ring_put(&s_rx, &b, 1u); /* full ring: byte lost, framing resyncs */
    }
}

static void tx_pump(void)
{
    uint8_t b;
    while (!(UART_STATE & UART_STATE_TXFULL) && fes_ring_get(&s_tx, &b, 1u) == 1u) {
        UART_DATA = b;
    }
}

void fes_uart0_tx_handler(void)
{
    UART_INTCLR = UART_INT_TX;
    tx_pump();
}

void fes_port_init(void)
{
    fes_port_stim_off();
    fes_ring_init(&s_rx, s_rx_mem, sizeof s_rx_mem);
    fes_ring_init(&s_tx, s_tx_mem, sizeof s_tx_mem);

    UART_BAUDDIV = SYSCLK_HZ / UART_BAUD;
    UART_CTRL = UART_CTRL_TXEN | UART_CTRL_RXEN | UART_CTRL_TXINT | UART_CTRL_RXINT;
    NVIC_IPR0 = 0x00004040u; /* UART0 RX and TX at priority 2 (of 0..7) */
    NVIC_ISER0 = (1u << UART_IRQ_RX) | (1u << UART_IRQ_TX);

    SCB_SHPR3 = (SCB_SHPR3 & 0x00FFFFFFu) | 0x20000000u; /* SysTick priority 1 */
    SYST_RVR = SYST_RELOAD_VALUE;
    SYST_CVR = 0u;
    SYST_CSR = 0x7u; /* processor clock, interrupt, enable */

    TIMER0_RELOAD = 0xFFFFFFFFu;
    TIMER0_VALUE = 0xFFFFFFFFu;
    TIMER0_CTRL = TIMER_CTRL_ENABLE; /* no interrupt: read as a clock */
}

uint64_t fes_port_time_us(void)
{
    /* The 32-bit count wraps every 171.8 s; the super-loop reads it every millisecond,
     * so the modular difference since the last read is the time that passed. */
    uint32_t key = irq_save();
    uint32_t count = ~TIMER0_VALUE;
    s_clock_ticks += (uint32_t)(count - s_last_count);
    s_last_count = count;
    uint64_t t_us = s_clock_ticks / (SYSCLK_HZ / 1000000u);
    irq_restore(key);
    return t_us;
}

size_t fes_port_uart_read(uint8_t *buf, size_t cap)
{
    uint32_t key = irq_save();
    size_t n = fes_ring_get(&s_rx, buf, cap);
    irq_restore(key);
    return n;
}

size_t fes_port_uart_tx_free(void)
{
    uint32_t key = irq_save();
    size_t n = fes_ring_free(&s_tx);
    irq_restore(key);
    return n;
}

bool fes_port_uart_write(const uint8_t *buf, size_t len)
{
    uint32_t key = irq_save();
    bool ok = fes_ring_free(&s_tx) >= len;
    if (ok) {
        (void)fes_ring_put(&s_tx, buf, len);
        tx_pump();
    }
    irq_restore(key);
    return ok;
}

void fes_port_stim_apply(const fes_port_stim_t *out)
{
    FPGAIO_LED = out->current_ua > 0u ? 1u : 0u;
}

void fes_port_stim_off(void)
{
    FPGAIO_LED = 0u;
}

bool fes_port_sensor_read(uint64_t t_us, fes_port_sensor_t *out)
{
    mps2_sensor_sample(t_us, out);
    return true;
}

uint32_t fes_port_device_id(void)
{
    return SCC_ID;
}

void fes_port_idle(void)
{
    __asm volatile("wfi");
}
