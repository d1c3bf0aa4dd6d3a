// ConvNetCore: the network itself.
//
// Tensors (`Tensor/`), the CPU backend (`Backend/`: BLAS loaded at run time, the thread pool,
// process settings only through `ConvNetRuntime.configure`), ops with their reference and fast
// kernels, forward and backward side by side (`Ops/`), the gradient tape (`Autodiff/`), layers
// (`Layers/`), models (`Model/`), preprocessing stored with a model (`Preprocessing/`), training
// (`Training/`: the `Trainer` step, callbacks, losses, metrics, optimizers, schedules) and the
// model zoo (`Zoo/`). Depends on no other module of ConvNet and on no C library.
