//! The network, one file per part: convolutions, the LSTM, the SEANet stacks, the quantizer,
//! and the layers' streaming state.

pub mod conv;
pub mod lstm;
pub mod quantizer;
pub mod seanet;
pub mod streaming;
