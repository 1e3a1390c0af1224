#include "mps2_sensor.h"

#include <math.h>

/* Winter (2009) Appendix A, 1.42 m/s: stride 0.987 s, toe-off at 60.9 %.
 * Shank tilt psi(phi) = a0 + sum_k a_k cos(2 pi k phi) + b_k sin(2 pi k phi),
 * degrees, phi = 0 at heel strike (coefficients: docs REFERENCE section 2). */
#define STRIDE_US 987000u
#define TOE_OFF_PHASE 0.609f
#define GRAVITY_MPS2 9.80665f
#define PI_F 3.14159265f

static const float k_a0 = 15.26f;
static const float k_a[6] = {-26.36f, -8.08f, 0.41f, -0.69f, 0.02f, 0.19f};
static const float k_b[6] = {-12.46f, 9.98f, 1.91f, 0.79f, 0.58f, 0.18f};

void mps2_sensor_sample(uint64_t t_us, fes_port_sensor_t *out)
{
    float phase = (float)(t_us % STRIDE_US) / (float)STRIDE_US;
    float psi_deg = k_a0;
    float dpsi_dphase = 0.0f;
    for (int k = 1; k <= 6; ++k) {
        float w = 2.0f * PI_F * (float)k;
        float c = cosf(w * phase);
        float s = sinf(w * phase);
        psi_deg += k_a[k - 1] * c + k_b[k - 1] * s;
        dpsi_dphase += w * (k_b[k - 1] * c - k_a[k - 1] * s);
    }
    float psi_rad = psi_deg * PI_F / 180.0f;
    /* Quasi-static specific force: gravity only, no swing accelerations. */
    out->acc_mps2[0] = GRAVITY_MPS2 * cosf(psi_rad);
    out->acc_mps2[1] = -GRAVITY_MPS2 * sinf(psi_rad);
    out->acc_mps2[2] = 0.0f;
    out->gyr_dps[0] = 0.0f;
    out->gyr_dps[1] = 0.0f;
    out->gyr_dps[2] = dpsi_dphase * 1e6f / (float)STRIDE_US;
    out->tilt_deg = psi_deg;
    out->footswitch = phase < TOE_OFF_PHASE ? 1u : 0u;
}
