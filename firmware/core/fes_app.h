#ifndef FES_APP_H
#define FES_APP_H
void fes_app_init(void);
void fes_app_poll(void);
#endif
