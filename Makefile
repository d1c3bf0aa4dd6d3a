# ConvNet: set-up, main job, tests. See README.md.
SWIFT ?= swift
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
APT_PACKAGES := libopenblas-dev libhdf5-dev zlib1g-dev libpng-dev libjpeg-dev pkg-config dataset-fashion-mnist libopenmpi-dev openmpi-bin libdnnl2

.PHONY: setup build install uninstall run test test-core-only bench-gemm clean

## Install the system libraries and datasets ConvNet uses (Debian/Ubuntu, apt-get).
setup:
	$(SUDO) apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $(APT_PACKAGES)

build:
	$(SWIFT) build -c release

## Put `convnet` on the PATH: $(BINDIR)/convnet (PREFIX=/usr/local by default; DESTDIR for packagers).
install: build
	install -d "$(DESTDIR)$(BINDIR)"
	install -m 755 "$$($(SWIFT) build -c release --show-bin-path)/convnet" "$(DESTDIR)$(BINDIR)/convnet"

uninstall:
	rm -f "$(DESTDIR)$(BINDIR)/convnet"

## The main job: LeNet-5 on Fashion-MNIST, test accuracy, a Keras model file and the training curves.
run: build
	.build/release/convnet train --model lenet5 --dataset fashion-mnist --epochs 3 --save lenet5.h5 --log lenet5-history.csv --plot curves.svg

## The test suite (release mode: the reference loops are slow in debug builds), after checking that
## a package can use ConvNetCore alone.
test: test-core-only
	$(SWIFT) test -c release

test-core-only:
	bash scripts/check-core-only.sh

bench-gemm: build
	.build/release/convnet bench gemm

clean:
	rm -rf .build
