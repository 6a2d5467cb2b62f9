# stabaudit: the two commands of the README.
#   make quickstart   install what is missing, build, run input/quickstart.yaml on 2 MPI ranks, print the summary
#   make test         install what is missing, build, run the test suite (ctest, all but the 'slow' label)
BUILD   ?= build
NP      ?= 2
WERROR  ?= ON
CTEST_ARGS ?= -LE slow --output-on-failure
# MPI as root on small machines (containers, CI): allow root, oversubscribe, one BLAS thread per rank
export OMPI_ALLOW_RUN_AS_ROOT=1
export OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_rmaps_base_oversubscribe=1
export OPENBLAS_NUM_THREADS=1
export OMP_NUM_THREADS=1

.PHONY: all setup build quickstart test bench clean

all: build

setup:
	@scripts/setup.sh

$(BUILD)/CMakeCache.txt: | setup
	cmake -S . -B $(BUILD) -DSA_WERROR=$(WERROR)

build: setup $(BUILD)/CMakeCache.txt
	@cmake --build $(BUILD) -j$$(nproc) $(if $(CI),-- --no-print-directory,)

quickstart: build
	mpiexec -n $(NP) $(BUILD)/bin/stabaudit run input/quickstart.yaml -o runs/quickstart

test: build
	cd $(BUILD) && ctest $(CTEST_ARGS) -j1

bench: build
	bench/throughput.sh

clean:
	rm -rf $(BUILD)
