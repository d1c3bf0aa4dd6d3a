// ConvNetFiles: models and training state on disk.
//
// A libhdf5 wrapper with atomic writes (`HDF5/`), Keras's three weight layouts and its JSON model
// configs both ways (`Keras/`: `Model.save`, `Model.load`, `loadWeights`), and training checkpoints
// (`Checkpoints/`: `TrainingCheckpoint.save/load`, the checkpoint callbacks). Depends on ConvNetCore.
