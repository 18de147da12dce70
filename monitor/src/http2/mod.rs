//! HTTP/2 (RFC 9113) from captured byte streams: `preface` recognises a connection's start,
//! `frame` parses one frame, `reader` cuts one direction's bytes into frames (resynchronising
//! after a gap with `resync`), `hpack` decodes header blocks, tolerant of a mid-stream join.

pub mod hpack;
