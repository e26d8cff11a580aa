# Raspberry Pi cross builds, included by the Makefile. `make rpi` builds build/aarch64/sealbench
# (64-bit Raspberry Pi OS) and its test programs; `make rpi TARGET=armhf` builds build/armhf/
# (32-bit). `make rpi-test [TARGET=...]` runs the suite's emulable part and quick.ini under
# qemu-user with the host's Mosquitto as the private broker (no binfmt_misc needed: every ARM
# program is started as `QEMU_LD_PREFIX=<root> qemu-<arch> program`, by build/<target>/emulated/,
# and the runner starts its children through the same emulator). The Makefile's own rules build
# everything: a cross build is `make BUILD=aarch64` (or armhf), which this file turns into the
# cross compiler, the target's libraries and build/<target>/.
#
# armhf: Raspberry Pi OS 32-bit is built for ARMv6 hard-float (it must run on a Pi Zero/1);
# Debian's armhf, whose compiler and libraries these are, is ARMv7-A + VFPv3-D16 + Thumb-2. So
# build/armhf/sealbench runs on a Pi 2, 3, 4 or 5 under 32-bit Raspberry Pi OS, and not on a Pi
# Zero, Zero W or 1 (ARMv6: illegal instruction). There, build on the Pi itself.
#
# The libraries: Debian's own -dev packages of the target architecture, from its archive, by
# scripts/install-deps.sh --cross=<arch> (dpkg --add-architecture, multiarch). All of them are
# Multi-Arch: same, so they install beside the amd64 ones, and the cross compiler finds their
# headers and libraries in /usr/include/<triplet> and /usr/lib/<triplet> by itself; pkg-config
# reads only the target's .pc files. Multi-Arch: same also means "the same version on every
# architecture": when the archive offers a library at another version for the target than the
# one installed for the host (seen here: bookworm-security's armhf index stale on the mirror,
# so libssl3:armhf is 3.0.20 while libssl3:amd64 is 3.0.22), dpkg cannot hold both, and
# install-deps.sh unpacks the target's packages (the same .debs, by apt-get download) into a
# private root, $(SEALBENCH_SYSROOTS)/<arch>, instead. Then the headers and libraries come from
# there (-isystem, -L, pkg-config's sysroot), and qemu takes it as the target's root
# (QEMU_LD_PREFIX), loader and libc included. No header is borrowed from the host's -dev
# package: some differ per architecture (OpenSSL's configuration.h). Where dpkg holds them
# (arm64 here), qemu's root is / (libc6:arm64 puts the loader at /lib/ld-linux-aarch64.so.1).

RPI_TARGETS := aarch64 armhf
TARGET ?= aarch64
SEALBENCH_SYSROOTS ?= /opt/sealbench/sysroot
rpi_triplet_aarch64 := aarch64-linux-gnu
rpi_triplet_armhf := arm-linux-gnueabihf
rpi_debarch_aarch64 := arm64
rpi_debarch_armhf := armhf
rpi_qemu_aarch64 := qemu-aarch64
rpi_qemu_armhf := qemu-arm

# In the cross sub-make (BUILD is a target) the build's target; in the top one, TARGET.
RPI_T := $(if $(filter $(BUILD),$(RPI_TARGETS)),$(BUILD),$(TARGET))
RPI_TRIPLET := $(rpi_triplet_$(RPI_T))
RPI_DEBARCH := $(rpi_debarch_$(RPI_T))
RPI_QEMU := $(rpi_qemu_$(RPI_T))
RPI_SYSROOT := $(SEALBENCH_SYSROOTS)/$(RPI_DEBARCH)
# The unpacked root exists only where dpkg could not hold the target's libraries (see above).
RPI_USE_SYSROOT := $(if $(wildcard $(RPI_SYSROOT)/.packages),1)
RPI_ROOT := $(if $(RPI_USE_SYSROOT),$(RPI_SYSROOT),/)
RPI_BUILD_DIR := build/$(RPI_T)

ifneq ($(filter $(BUILD),$(RPI_TARGETS)),)
# ---- the cross build itself: `make BUILD=aarch64` ----
CROSS_COMPILE ?= $(RPI_TRIPLET)-
CC := $(CROSS_COMPILE)gcc
CXX := $(CROSS_COMPILE)g++
AR := $(CROSS_COMPILE)ar
ifeq ($(SANITIZE),1)
$(error SANITIZE=1 is for native builds; the cross builds are not sanitized)
endif
ifeq ($(RPI_T),armhf)
# 64-bit file offsets and inode numbers, as Debian builds its armhf packages: readdir() otherwise
# fails with EOVERFLOW on a directory whose entries do not fit 32 bits (any under qemu-arm on a
# 64-bit kernel: the broker's folder was never removed), and a dataset could not pass 2 GiB.
CPPFLAGS += -D_FILE_OFFSET_BITS=64
endif
ifeq ($(RPI_USE_SYSROOT),)
PKG_CONFIG := env PKG_CONFIG_LIBDIR=/usr/lib/$(RPI_TRIPLET)/pkgconfig:/usr/share/pkgconfig pkg-config
else
PKG_CONFIG := env PKG_CONFIG_LIBDIR=$(RPI_SYSROOT)/usr/lib/$(RPI_TRIPLET)/pkgconfig:$(RPI_SYSROOT)/usr/share/pkgconfig PKG_CONFIG_SYSROOT_DIR=$(RPI_SYSROOT) pkg-config
# Before the compiler's own /usr/include/<triplet> and /usr/include, which hold the host's;
# system headers, as they are where dpkg installs them (their warnings are not ours).
CPPFLAGS += -isystem $(RPI_SYSROOT)/usr/include/$(RPI_TRIPLET) -isystem $(RPI_SYSROOT)/usr/include
# -rpath-link: the libraries' own dependencies (libssl.so.3 -> libcrypto.so.3, libpapi -> libpfm).
LDFLAGS += $(foreach d,/usr/lib/$(RPI_TRIPLET) /lib/$(RPI_TRIPLET),-L$(RPI_SYSROOT)$(d) -Wl,-rpath-link,$(RPI_SYSROOT)$(d))
endif
endif

# The test programs of a cross build, named as the Makefile names them.
RPI_TEST_BINS = $(TEST_SRCS:tests/%.c=$(RPI_BUILD_DIR)/tests/%)

.PHONY: rpi rpi-deps rpi-test rpi-check-target rpi-wrappers
# The Makefile's first rule stays the default goal.
.DEFAULT_GOAL := all

rpi-check-target:
	@test -n "$(RPI_TRIPLET)" || { echo "TARGET=$(TARGET): one of $(RPI_TARGETS)"; exit 2; }

rpi-deps: rpi-check-target
ifneq ($(NO_DEPS),1)
	@scripts/install-deps.sh --check-only rpi --cross=$(RPI_DEBARCH) >/dev/null 2>&1 || scripts/install-deps.sh rpi --cross=$(RPI_DEBARCH)
endif

# A sub-make, so that whether the unpacked root is used is decided after the install.
rpi: rpi-deps
	@$(MAKE) --no-print-directory BUILD=$(RPI_T) $(RPI_BUILD_DIR)/sealbench $(RPI_TEST_BINS) rpi-wrappers

# Two commands for the tests, made by the sub-make that knows the root: emulated/run PROGRAM
# ARGS runs any program of the target under qemu-user; emulated/sealbench is the cross-built
# binary so (the BIN of the shell tests). The root goes in QEMU_LD_PREFIX rather than -L, so
# that a qemu a test starts itself (test_manifest runs itself under qemu) finds it too. exec,
# so that a test's kill reaches the program.
rpi-wrappers:
	@mkdir -p $(RPI_BUILD_DIR)/emulated
	@printf '#!/bin/sh\n# Made by rpi/rpi.mk: a $(RPI_T) program under qemu-user (no binfmt_misc needed).\nQEMU_LD_PREFIX=$(RPI_ROOT) exec $(RPI_QEMU) "$$@"\n' >$(RPI_BUILD_DIR)/emulated/run
	@printf '#!/bin/sh\n# Made by rpi/rpi.mk: $(RPI_BUILD_DIR)/sealbench under qemu-user.\nQEMU_LD_PREFIX=$(RPI_ROOT) exec $(RPI_QEMU) "%s" "$$@"\n' "$(CURDIR)/$(RPI_BUILD_DIR)/sealbench" >$(RPI_BUILD_DIR)/emulated/sealbench
	@chmod +x $(RPI_BUILD_DIR)/emulated/run $(RPI_BUILD_DIR)/emulated/sealbench

# What does not run under emulation, and why (tests/run.sh prints each with its reason). qemu-user
# runs the target's code 3 to 10 times slower than the CPU (measured here: interop 44 s, datasets
# 46 s, quick.ini about 2 min), and `make rpi-test` for both targets must stay well inside CI's
# budget, so what runs is what the target can change: the KATs and vectors (the target's
# libraries and assembly), interop between the backends, protocol, transport, broker and TLS,
# the dataset loader and encoders (word size: a size_t-for-uint64_t bug of the CBOR encoder
# showed on armhf only), config, manifest (emulation detected), and quick.ini end to end
# (microbenchmarks included) in tests/test_rpi.sh. Skipped:
define RPI_SKIP
cli: the command line's parsing and messages are the same C everywhere (plain make test); its one case that depends on the target, the carried vectors on every backend, runs in tests/test_rpi.sh
generate: the dataset generator makes the shipped datasets on the development machine; a Pi reads them (the loader runs here)
mqtt: timing-bound under a translator (a 200-device QoS 0 burst outruns the emulated gateway, the 30x replay has a time limit); transport runs in test_transport and end to end in quick.ini
micro: its check that MB/s = bytes / ns within 1% reads a CSV rounded to 0.01 MB/s, and emulated 16-byte cases run at about 0.1 MB/s; the micro child itself runs in quick.ini's [micro] (tests/test_rpi.sh)
experiments: quick.ini end to end under emulation is tests/test_rpi.sh's, with the same check_run.py; the runner's resume and bad-input cases are target-independent (plain make test)
endef
export RPI_SKIP

# The suite under qemu: tests/run.sh with the emulator in front of every test program and the
# wrapper above as BIN, then tests/test_rpi.sh (ELF machine, `sealbench list`, quick.ini under
# emulation with manifest emulated = true). The total line of run.sh comes last.
rpi-test: rpi
	@BUILD_DIR=$(RPI_BUILD_DIR) EMULATOR=$(RPI_BUILD_DIR)/emulated/run BIN=$(RPI_BUILD_DIR)/emulated/sealbench \
		SKIP="$$RPI_SKIP" EXTRA_TESTS="rpi tests/test_rpi.sh $(RPI_T) $(RPI_BUILD_DIR)" tests/run.sh
