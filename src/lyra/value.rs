//! The values flowing between Lyra's layers: `[time, channels]` rows, f32 or int8.

/// A value's rows, time-major (each frame's channels contiguous).
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Act {
    /// Float activations.
    F32(Vec<f32>),
    /// Quantised activations (the layer that made them knows their scale and zero point).
    Q8(Vec<i8>),
}

impl Act {
    /// Values in all (rows x channels).
    pub fn len(&self) -> usize {
        match self {
            Act::F32(v) => v.len(),
            Act::Q8(v) => v.len(),
        }
    }

    /// The f32 rows (a plan is checked at load, so a layer meets only the type it takes).
    pub fn f32(&self) -> &[f32] {
        match self {
            Act::F32(v) => v,
            Act::Q8(_) => unreachable!("an int8 value where the plan has f32 (checked at load)"),
        }
    }

    /// The int8 rows.
    pub fn q8(&self) -> &[i8] {
        match self {
            Act::Q8(v) => v,
            Act::F32(_) => unreachable!("an f32 value where the plan has int8 (checked at load)"),
        }
    }
}
