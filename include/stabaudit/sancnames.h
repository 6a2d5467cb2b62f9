/*
  sancnames.h - every netCDF name of the campaign dataset results.nc, shared by its writer (jobs/io/results.c) and its
  readers (analysis/stability/): the schema is docs/output-schema.md.
*/
#pragma once
#include <stabaudit/sasys.h>

#define SA_NC_CONVENTIONS "CF-1.13"
#define SA_NC_DIM_MEMBER  "member"
#define SA_NC_DIM_STEP    "step"
#define SA_NC_DIM_CONFIG  "config"
#define SA_NC_DIM_NAME    "name_strlen"
#define SA_NC_STEP        "step"
#define SA_NC_MEMBER      "member"
#define SA_NC_CONFIG      "config"
#define SA_NC_DIMENSION   "dimension"
#define SA_NC_KIND        "kind"
#define SA_NC_PERTURB     "perturbation"
#define SA_NC_MAGNITUDE   "magnitude"
#define SA_NC_ONSET       "onset"
#define SA_NC_DURATION    "duration"
#define SA_NC_SHAPE       "shape"
#define SA_NC_SEED        "seed"
#define SA_NC_TWIN        "twin"
#define SA_NC_REASON      "reason"
#define SA_NC_DIVSTEP     "diverged_step"
#define SA_NC_FINALPERF   "final_performance"
#define SA_NC_CONFIGLABEL "config_label"
#define SA_NC_NAME_LEN    64
#define SA_NC_DIM_LYAP    "lyap"
#define SA_NC_LYAP        "lyap_exponent"
#define SA_NC_LYAPSTEPS   "lyap_steps"
