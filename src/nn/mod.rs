//! Layers for neural codecs, one file per part: convolutions, the LSTM, the residual block,
//! stacks of layers with their plan, and the layers' streaming state. Each layer serves the
//! batch path and the streaming one.

pub mod conv;
pub mod lstm;
pub mod resnet;
pub mod stack;
pub mod streaming;
