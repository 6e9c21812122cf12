//! Human-readable sizes and durations.

pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KB", "MB", "GB", "TB"];
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1000.0 && unit < UNITS.len() - 1 {
        value /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

pub fn duration(seconds: f64) -> String {
    let s = seconds.max(0.0).round() as u64;
    if s >= 3600 {
        format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
    } else {
        format!("{}:{:02}", s / 60, s % 60)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn sizes_and_durations_read_well() {
        assert_eq!(super::bytes(512), "512 B");
        assert_eq!(super::bytes(98_362_432), "98.4 MB");
        assert_eq!(super::bytes(4_370_000_000), "4.4 GB");
        assert_eq!(super::duration(75.4), "1:15");
        assert_eq!(super::duration(3725.0), "1:02:05");
    }
}
