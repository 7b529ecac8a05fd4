//! The 48 kHz model's overlap-add of decoded segments, as the reference's
//! `_linear_overlap_add` computes it: each segment weighted by a triangle peaking at its
//! middle, summed, and divided by the summed weights. One implementation for batch decoding
//! (all segments at once) and streaming (a segment at a time): the sums run in the same order,
//! so both give the same bits.

/// Weighted sums of decoded segments, handed out as soon as no later segment reaches them.
pub(crate) struct OverlapAdd {
    stride: usize,
    channels: usize,
    /// Per channel, the weighted sums from sample `start` on; and the summed weights.
    sums: Vec<Vec<f32>>,
    weights: Vec<f32>,
    start: usize,
    /// The triangle each segment is weighted by (the first segment's length).
    triangle: Option<Vec<f32>>,
}

impl OverlapAdd {
    /// Segments `stride` samples apart, of `channels` channels, the first added one starting
    /// at sample `start`; `first_len`: the first segment's length, if it is not the first
    /// added (a decode that starts mid-stream).
    pub(crate) fn new(stride: usize, channels: usize, start: usize, first_len: Option<usize>) -> Self {
        let triangle = first_len.map(triangle);
        Self { stride, channels, sums: vec![Vec::new(); channels], weights: Vec::new(), start, triangle }
    }

    /// Adds segment `index`, decoded (`[channels][samples]`); returns the samples before the
    /// next segment's start, final.
    pub(crate) fn add(&mut self, index: usize, decoded: &[Vec<f32>]) -> Vec<Vec<f32>> {
        let n = decoded.first().map_or(0, Vec::len);
        let triangle = self.triangle.get_or_insert_with(|| triangle(n));
        let at = index * self.stride - self.start;
        let end = at + n.min(triangle.len());
        for (sums, samples) in self.sums.iter_mut().zip(decoded) {
            sums.resize(sums.len().max(end), 0.0);
            for (i, s) in samples.iter().enumerate().take(triangle.len()) {
                sums[at + i] += triangle[i] * s;
            }
        }
        self.weights.resize(self.weights.len().max(end), 0.0);
        for (i, w) in triangle.iter().take(n).enumerate() {
            self.weights[at + i] += w;
        }
        self.drain((index + 1) * self.stride)
    }

    /// Every sample left: the end of the signal.
    pub(crate) fn finish(&mut self) -> Vec<Vec<f32>> {
        self.drain(usize::MAX)
    }

    /// The samples before `until`, divided by their weights.
    fn drain(&mut self, until: usize) -> Vec<Vec<f32>> {
        let count = until.saturating_sub(self.start).min(self.weights.len());
        let weights: Vec<f32> = self.weights.drain(..count).collect();
        self.start += count;
        let mut out: Vec<Vec<f32>> = self.sums.iter_mut().map(|s| s.drain(..count).collect()).collect();
        out.resize(self.channels, Vec::new());
        for channel in &mut out {
            channel.iter_mut().zip(&weights).for_each(|(s, w)| *s /= w);
        }
        out
    }
}

/// `0.5 - |t - 0.5|` for `t = linspace(0, 1, n + 2)[1:-1]`, with torch's linspace arithmetic
/// (f32, counting down from the end past the middle).
fn triangle(n: usize) -> Vec<f32> {
    let steps = n + 2;
    let step = 1.0f32 / (steps - 1) as f32;
    let halfway = steps / 2;
    (1..=n)
        .map(|i| {
            let t = if i < halfway { step * i as f32 } else { 1.0 - step * (steps - i - 1) as f32 };
            0.5 - (t - 0.5).abs()
        })
        .collect()
}
