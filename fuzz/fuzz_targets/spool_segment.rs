//! The spool's segment reader: any bytes as a segment file, read frame by frame and each sound
//! frame decoded as a record, as the drain does after a crash or a bit flip. Nothing may panic
//! or allocate what a damaged length claims; a segment built from the sound frames reads back
//! the same frames.
#![no_main]

use libfuzzer_sys::fuzz_target;
use streamvault::spool::{codec, segment};

fuzz_target!(|data: &[u8]| {
    let (frames, damage) = segment::frames(data);
    for payload in &frames {
        let _ = codec::decode(payload);
    }
    let mut rebuilt = segment::MAGIC.to_vec();
    for payload in &frames {
        segment::put_frame(&mut rebuilt, payload);
    }
    let (again, none) = segment::frames(&rebuilt);
    assert_eq!(again, frames);
    assert!(none.is_none());
    if damage.is_none() {
        assert_eq!(rebuilt, data);
    }
});
