# Shared by the speed scripts (sourced): the runtime settings plateau-cli applies to itself, given to
# Python too; the median of numbers; the median step_ms of a run's timed steps.
export OMP_WAIT_POLICY=PASSIVE
unset OPENBLAS_CORETYPE
arch=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || echo x86_64-linux-gnu)
pyenv=(env LD_PRELOAD=/usr/lib/$arch/libtcmalloc_minimal.so.4
       LD_LIBRARY_PATH=/usr/lib/$arch/openblas-openmp${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH})
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
# run_step_ms CLI RUN_DIR WARMUP: median of the step_ms column over the rows after WARMUP
run_step_ms() {
  "$1" metrics "$2" --csv | awk -F, -v w="$3" 'NR==1 {for (i=1;i<=NF;i++) if ($i=="step_ms") c=i} NR>1+w {print $c}' |
    sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'
}
