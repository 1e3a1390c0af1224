/* One shank sensor sample as the device-side detector sees it (the frame and
 * units of fes_sim/samples.py; NaN marks an absent channel). */
#ifndef FES_SAMPLE_H
#define FES_SAMPLE_H

typedef struct {
    double t_s;
    double acc_x_mps2, acc_y_mps2, acc_z_mps2;
    double gyr_x_dps, gyr_y_dps, gyr_z_dps;
    double tilt_deg;
    double footswitch; /* 1 loaded, 0 off, NaN absent */
} fes_sample_t;

#define FES_GRAVITY_MPS2 9.80665

#endif
