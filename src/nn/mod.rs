//! The network, one file per part: convolutions, the LSTM, the SEANet stacks, the quantizer.

pub mod conv;
pub mod lstm;
pub mod quantizer;
pub mod seanet;
