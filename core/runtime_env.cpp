#include <torch/torch.h>

#include "runtime_env.h"

#include <QDir>
#include <QFileInfo>

#include <cstdlib>
#include <cstring>
#include <dlfcn.h>
#include <sched.h>
#include <string>
#include <thread>
#include <unistd.h>

namespace plateau {

namespace {
constexpr const char* kMarker = "PLATEAU_RUNTIME_APPLIED";
#ifndef PLATEAU_LIBDIR
#define PLATEAU_LIBDIR "/usr/lib/x86_64-linux-gnu"
#endif
const char* kOpenBlasOpenMpDir = PLATEAU_LIBDIR "/openblas-openmp";

QString libraryOf(const char* symbol) {
    void* p = dlsym(RTLD_DEFAULT, symbol);
    if (!p) return {};
    Dl_info info{};
    if (!dladdr(p, &info) || !info.dli_fname) return {};
    return QFileInfo(QString::fromLocal8Bit(info.dli_fname)).canonicalFilePath();
}
}  // namespace

int coreCount() {
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof(set), &set) == 0) return std::max(1, CPU_COUNT(&set));
    return std::max(1u, std::thread::hardware_concurrency());
}

void prepareProcess(int argc, char** argv, bool computes) {
    (void)argc;
    const char* marker = std::getenv(kMarker);
    if (marker && std::strcmp(marker, "1") == 0) return;
    const char* noReexec = std::getenv("PLATEAU_NO_REEXEC");
    // Without PASSIVE, idle OpenMP threads spin and 2 threads ran slower than 1 at small widths.
    if (!std::getenv("OMP_WAIT_POLICY")) setenv("OMP_WAIT_POLICY", "PASSIVE", 1);
    // A preset core type can pick a slower GEMM kernel (it halved GEMM speed here).
    unsetenv("OPENBLAS_CORETYPE");
    // Make libblas.so.3 resolve to OpenBLAS (OpenMP build) even if the system alternative
    // points at the reference BLAS.
    if (QFileInfo(kOpenBlasOpenMpDir).isDir()) {
        std::string path = kOpenBlasOpenMpDir;
        if (const char* old = std::getenv("LD_LIBRARY_PATH"); old && *old) path += std::string(":") + old;
        setenv("LD_LIBRARY_PATH", path.c_str(), 1);
    }
    setenv(kMarker, "1", 1);  // children started with this environment load the right libraries at once
    if (!computes) return;
    if (noReexec && std::strcmp(noReexec, "1") == 0) return;
    // Exec the binary by its real path, not /proc/self/exe: the process name (ps, top) is taken
    // from the path, and would read "exe".
    char self[4096];
    const ssize_t len = readlink("/proc/self/exe", self, sizeof(self) - 1);
    if (len > 0) {
        self[len] = '\0';
        execv(self, argv);
    }
    execv("/proc/self/exe", argv);
    // execv failed: carry on with whatever was loaded; configureRuntime() will warn.
}

QString RuntimeReport::summary() const {
    QString s = QString("threads %1, BLAS %2").arg(threads).arg(blasConfig.isEmpty() ? blasLibrary : blasConfig);
    if (!blasThreading.isEmpty()) s += " (" + blasThreading + ")";
    s += tcmalloc ? ", tcmalloc" : ", glibc malloc";
    s += ", OMP_WAIT_POLICY=" + (ompWaitPolicy.isEmpty() ? QString("unset") : ompWaitPolicy);
    return s;
}

RuntimeReport configureRuntime(int threads) {
    RuntimeReport r;
    r.threads = threads > 0 ? threads : coreCount();
    torch::set_num_threads(r.threads);
    // Judge by the library that actually provides sgemm_ (what LibTorch's calls bind to):
    // OpenBLAS may be loaded too (through LAPACK) while the reference BLAS wins symbol lookup.
    r.blasLibrary = libraryOf("sgemm_");
    const bool isOpenBlas = r.blasLibrary.contains("openblas", Qt::CaseInsensitive);
    using ConfigFn = char* (*)();
    using ParallelFn = int (*)();
    if (isOpenBlas) {
        if (auto cfg = reinterpret_cast<ConfigFn>(dlsym(RTLD_DEFAULT, "openblas_get_config")))
            r.blasConfig = QString::fromLatin1(cfg()).trimmed();
        if (auto par = reinterpret_cast<ParallelFn>(dlsym(RTLD_DEFAULT, "openblas_get_parallel"))) {
            const int p = par();
            r.blasThreading = p == 2 ? "openmp" : p == 1 ? "pthreads" : "sequential";
        }
    }
    r.referenceBlas = !isOpenBlas && (r.blasLibrary.isEmpty() || r.blasLibrary.contains("/blas/") ||
                                      r.blasLibrary.contains("libblas.so"));
    if (r.referenceBlas)
        r.warnings << "slow BLAS: " + (r.blasLibrary.isEmpty() ? QString("no sgemm_ found") : r.blasLibrary) +
                          " is the reference BLAS (35-60x slower); install libopenblas0-openmp";
    else if (isOpenBlas && r.blasThreading != "openmp")
        r.warnings << "OpenBLAS is the " + r.blasThreading +
                          " build; the OpenMP build (libopenblas0-openmp) shares torch's threads";
    r.tcmalloc = dlsym(RTLD_DEFAULT, "tc_malloc") != nullptr;
    if (!r.tcmalloc) r.warnings << "tcmalloc not loaded: training steps may be ~3x slower";
    r.ompWaitPolicy = QString::fromLocal8Bit(std::getenv("OMP_WAIT_POLICY"));
    if (r.ompWaitPolicy.compare("PASSIVE", Qt::CaseInsensitive) != 0)
        r.warnings << "OMP_WAIT_POLICY is " + (r.ompWaitPolicy.isEmpty() ? QString("unset") : r.ompWaitPolicy) +
                          " (PASSIVE is faster with 2 threads at small widths)";
    if (std::getenv("OPENBLAS_CORETYPE"))
        r.warnings << "OPENBLAS_CORETYPE is set: it may force a slower GEMM kernel";
    return r;
}

}  // namespace plateau
