/*
  saanalysis.h - stability analysis of a campaign (DESIGN.md section 8, docs/analysis.md).

  The algorithms work on plain arrays (a member's recorded series, per-member scalars) so they can be
  tested on synthetic data with known answers; SAAnalyze() reads DIR/results.nc, runs them with the
  members distributed over the ranks and writes DIR/analysis.nc.
  Series are indexed by record k with the optimizer step step[k]; missing values are NaN.
*/
#pragma once
#include <stabaudit/sasolver.h>
#include <stabaudit/sastream.h>
#include <petscmat.h>

/* stream purpose of the bootstrap resampling (far from the training purposes of sastream.h) */
#define SA_STREAM_ANALYSIS 1000

/* ---- collapse, recovery, drawdown, twin gap, FTLE ------------------------------------------ */

/*S
  SACollapseResult - collapse of one performance curve (DESIGN.md 8)

  Level: beginner
S*/
typedef struct {
  PetscBool collapsed;      /* the curve collapsed (or the run diverged) */
  PetscBool irreversible;   /* it never recovered within the recorded steps */
  PetscInt  collapse_step;  /* optimizer step of the collapse, -1 if none */
  PetscInt  recovery_steps; /* steps from the collapse back to (1 - delta) of the running maximum, -1 if none */
  PetscReal max_drawdown;   /* max over steps of (running max - performance) / running max, 1 if diverged */
} SACollapseResult;

PETSC_EXTERN PetscErrorCode SACollapseDetect(PetscInt, const PetscInt[], const PetscReal[], const PetscReal[], PetscInt,
                                             PetscReal, PetscInt, SACollapseResult *);
PETSC_EXTERN PetscErrorCode SATwinGapArea(PetscInt, const PetscInt[], const PetscReal[], const PetscReal[], PetscInt,
                                          PetscReal *);
PETSC_EXTERN PetscErrorCode SAFTLEFit(PetscInt, const PetscInt[], const PetscReal[], PetscInt, PetscInt, PetscReal *,
                                      PetscReal *, PetscInt *);

/* ---- statistics ------------------------------------------------------------------------------ */

/*E
  SAMarginStatus - how a stability margin was obtained

  Level: beginner
E*/
typedef enum {
  SA_MARGIN_FIT             = 0, /* logistic fit, bootstrap percentile interval */
  SA_MARGIN_SEPARATED       = 1, /* outcomes separated by magnitude: midpoint of the gap, the gap as interval */
  SA_MARGIN_CENSORED_ABOVE  = 2, /* no collapse in range: margin > largest magnitude (low = that magnitude) */
  SA_MARGIN_CENSORED_BELOW  = 3, /* every member collapsed: margin < smallest magnitude (high = that magnitude) */
  SA_MARGIN_NONMONOTONE     = 4, /* the fitted slope is not positive: collapse does not grow with magnitude */
  SA_MARGIN_NODATA          = 5, /* fewer than two magnitudes */
  SA_MARGIN_QUASI_SEPARATED = 6  /* overlap at one magnitude only: the fit's crossing, the Wilson bracket as interval */
} SAMarginStatus;
PETSC_EXTERN const char *const SAMarginStatuses[];

/*S
  SAMargin - stability margin along one perturbation: where the collapse probability crosses 1/2

  Level: beginner
S*/
typedef struct {
  SAMarginStatus status;
  PetscReal      margin, low, high; /* NaN where not defined (censored: one side only) */
  PetscReal      a, b;              /* logit p = a + b x, x = log(magnitude) or magnitude */
  PetscBool      logscale;          /* x = log(magnitude) (else magnitude: some magnitude was not positive) */
} SAMargin;

PETSC_EXTERN PetscReal      SANormalQuantile(PetscReal);
PETSC_EXTERN PetscErrorCode SAWilsonInterval(PetscInt, PetscInt, PetscReal, PetscReal *, PetscReal *);
PETSC_EXTERN PetscErrorCode SALogisticFit(PetscInt, const PetscReal[], const PetscReal[], PetscReal *, PetscReal *,
                                          PetscBool *);
PETSC_EXTERN PetscErrorCode SAMarginEstimate(PetscInt, const PetscReal[], const PetscReal[], PetscBool, PetscInt,
                                             PetscReal, const SAStream *, SAMargin *);
PETSC_EXTERN PetscErrorCode SAQuantile(PetscInt, const PetscReal[], PetscReal, PetscReal *);
PETSC_EXTERN PetscErrorCode SASpearman(PetscInt, const PetscReal[], const PetscReal[], PetscReal *);
PETSC_EXTERN PetscErrorCode SASpearmanBootstrap(PetscInt, const PetscReal[], const PetscReal[], PetscInt, PetscReal,
                                                const SAStream *, PetscReal *, PetscReal *, PetscReal *);
PETSC_EXTERN PetscErrorCode SASpearmanStratified(PetscInt, const PetscReal[], const PetscReal[], const PetscInt[],
                                                 PetscInt, PetscReal, const SAStream *, PetscReal *, PetscReal *,
                                                 PetscReal *);
PETSC_EXTERN PetscErrorCode SAKendallTau(PetscInt, const PetscReal[], PetscReal *);
PETSC_EXTERN PetscErrorCode SALag1Autocorrelation(PetscInt, const PetscReal[], PetscReal *);
PETSC_EXTERN PetscErrorCode SAAUROC(PetscInt, const PetscReal[], const PetscBool[], PetscReal *);

/* ---- detectors (score series; NaN where undefined) ----------------------------------------- */
PETSC_EXTERN PetscErrorCode SADetectorLossZ(PetscInt, const PetscReal[], PetscInt, PetscReal[]);
PETSC_EXTERN PetscErrorCode SADetectorRollingVariance(PetscInt, const PetscReal[], PetscInt, PetscReal[]);
PETSC_EXTERN PetscErrorCode SADetectorRollingAR1(PetscInt, const PetscReal[], PetscInt, PetscReal[]);
PETSC_EXTERN PetscErrorCode SADetectorKendallTrend(PetscInt, const PetscReal[], PetscInt, PetscReal[]);

/* ---- meta-states, deviation and warnings ---------------------------------------------------- */
PETSC_EXTERN PetscErrorCode SAMetaStateFit(MPI_Comm, PetscInt, PetscInt, const PetscReal[], PetscReal, PetscInt,
                                           PetscInt *, PetscReal[], PetscReal[], PetscReal[]);
PETSC_EXTERN PetscErrorCode SACholeskyFactor(PetscInt, PetscReal[]);
PETSC_EXTERN PetscErrorCode SAMahalanobis(PetscInt, const PetscReal[], const PetscReal[], const PetscReal[],
                                          PetscReal *);
PETSC_EXTERN PetscErrorCode SAWarningRunStatistic(PetscInt, const PetscReal[], PetscInt, PetscReal *);
PETSC_EXTERN PetscErrorCode SAWarningCalibrate(PetscInt, const PetscReal[], PetscReal, PetscReal *);
PETSC_EXTERN PetscErrorCode SAWarningFirst(PetscInt, const PetscInt[], const PetscReal[], PetscReal, PetscInt, PetscInt,
                                           PetscInt *);

/* ---- Lyapunov spectrum by QR (Benettin) propagation through update-map Jacobians ------------ */

/*S
  SALyap - accumulates the leading k Lyapunov exponents of a trajectory from the Jacobians of its steps

  Level: beginner

.seealso: `SALyapCreate()`, `SALyapStep()`, `SALyapGetExponents()`
S*/
typedef struct _p_SALyap   *SALyap;
PETSC_EXTERN PetscClassId   SALYAP_CLASSID;
PETSC_EXTERN PetscErrorCode SALyapInitializePackage(void);
PETSC_EXTERN PetscErrorCode SALyapCreate(MPI_Comm, SALyap *);
PETSC_EXTERN PetscErrorCode SALyapSetFromOptions(SALyap);
PETSC_EXTERN PetscErrorCode SALyapSetOptionsPrefix(SALyap, const char[]);
PETSC_EXTERN PetscErrorCode SALyapAppendOptionsPrefix(SALyap, const char[]);
PETSC_EXTERN PetscErrorCode SALyapGetOptionsPrefix(SALyap, const char *[]);
PETSC_EXTERN PetscErrorCode SALyapView(SALyap, PetscViewer);
PETSC_EXTERN PetscErrorCode SALyapSetParameters(SALyap, PetscInt, PetscInt, PetscInt, PetscInt64);
PETSC_EXTERN PetscErrorCode SALyapStep(SALyap, Mat);
PETSC_EXTERN PetscErrorCode SALyapGetExponents(SALyap, PetscReal[], PetscInt *);
PETSC_EXTERN PetscErrorCode SALyapCreateForMember(MPI_Comm, PetscInt64, PetscInt64, SALyap *);
PETSC_EXTERN PetscErrorCode SALyapGetNumExponents(SALyap, PetscInt *);
PETSC_EXTERN PetscErrorCode SALyapCheckpointWrite(SALyap, PetscViewer, Vec);
PETSC_EXTERN PetscErrorCode SALyapCheckpointRead(SALyap, PetscViewer, Vec);
PETSC_EXTERN PetscErrorCode SALyapMonitor(SASolver, const SASolverStepInfo *, void *);
PETSC_EXTERN PetscErrorCode SALyapAttach(SALyap, SASolver);
PETSC_EXTERN PetscErrorCode SALyapDestroy(SALyap *);

/*S
  SATwin - the twin-distance monitor: a twin writes theta at every recorded step to its trajectory file, a perturbed
  member reads its twin's record and fills twin_distance

  Level: intermediate

.seealso: `SATwinCreate()`, `SATwinAttach()`
S*/
typedef struct _p_SATwin   *SATwin;
PETSC_EXTERN PetscErrorCode SATwinCreate(MPI_Comm, const char[], PetscBool, PetscInt, SATwin *);
PETSC_EXTERN PetscErrorCode SATwinMonitor(SASolver, const SASolverStepInfo *, void *);
PETSC_EXTERN PetscErrorCode SATwinAttach(SATwin, SASolver);
PETSC_EXTERN PetscErrorCode SATwinDestroy(SATwin *);

/* ---- the campaign analysis ------------------------------------------------------------------ */

#define SA_ANALYSIS_NDETECTORS 4 /* meta-state deviation, loss z-score, rolling variance, lag-1 autocorrelation */
PETSC_EXTERN const char *const SADetectorNames[];

/*S
  SAAnalysisOptions - every threshold of the analysis (docs/analysis.md lists the options and defaults)

  Level: beginner
S*/
typedef struct {
  PetscReal  delta;       /* -analyze_delta: relative drop from the running maximum that is a collapse */
  PetscInt   window;      /* -analyze_window: W, steps within which a drop must recover to be transient */
  PetscInt   ftle_window; /* -analyze_ftle_window: steps after onset fitted for the FTLE (0 = to the end) */
  PetscReal  level;       /* -analyze_level: confidence level of every interval */
  PetscInt   nboot;       /* -analyze_bootstrap: bootstrap replicates */
  PetscBool  margin_log;  /* -analyze_margin_log: fit the logistic in log(magnitude) */
  PetscReal  varfrac;     /* -analyze_variance: explained variance that chooses k */
  PetscInt   k;           /* -analyze_components: k (0 = by explained variance) */
  PetscReal  alpha;       /* -analyze_false_alarm: false-alarm rate on twins */
  PetscInt   m;           /* -analyze_consecutive: consecutive records above threshold for a warning */
  PetscInt   horizon;     /* -analyze_horizon: H, steps, for the AUROC of "collapse within H" */
  PetscInt   det_window;  /* -analyze_detector_window: records in the rolling windows of the detectors */
  PetscReal  ridge;       /* -analyze_ridge: ridge added to the twin covariance (relative to its trace / k) */
  PetscInt64 seed;        /* -analyze_seed: bootstrap stream seed */
} SAAnalysisOptions;

PETSC_EXTERN PetscErrorCode SAAnalysisOptionsDefault(SAAnalysisOptions *);
PETSC_EXTERN PetscErrorCode SAAnalyze(MPI_Comm, const char[], const SAAnalysisOptions *, const char[]);
