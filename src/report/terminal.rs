//! The terminal report, in the seed's layout, English or Chinese.
