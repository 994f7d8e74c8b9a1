// Process-wide runtime settings that make LibTorch fast on CPU, applied by Plateau itself:
// OpenBLAS (OpenMP build), tcmalloc (linked in), OMP_WAIT_POLICY=PASSIVE, no forced
// OPENBLAS_CORETYPE, intra-op threads = cores. Call prepareProcess() first thing in main().
#pragma once

#include <QString>
#include <QStringList>

namespace plateau {

// Sets the environment variables libgomp and OpenBLAS read at load time, and re-executes the
// program once so they take effect. Returns normally in the re-executed process (or when
// PLATEAU_NO_REEXEC=1, or if re-execution fails; then configureRuntime() reports it).
// computes = false (commands that only read runs: summaries, status, info): the environment is
// set for the processes it starts, but this one is not re-executed (loading LibTorch twice was
// most of a `sweep-summary`).
void prepareProcess(int argc, char** argv, bool computes = true);

struct RuntimeReport {
    QString blasLibrary;   // file that provides sgemm_
    QString blasConfig;    // openblas_get_config() if OpenBLAS
    QString blasThreading; // "openmp", "pthreads", "sequential" or "" if unknown
    bool referenceBlas = false;  // the slow Netlib reference BLAS
    bool tcmalloc = false;
    QString ompWaitPolicy;
    int threads = 0;
    QStringList warnings;  // one line each, for the CLI's stderr and the GUI's status bar
    QString summary() const;
};

// Sets torch's intra-op threads (0 = number of cores) and checks what was loaded.
RuntimeReport configureRuntime(int threads);
// Number of cores available to this process.
int coreCount();

}  // namespace plateau
