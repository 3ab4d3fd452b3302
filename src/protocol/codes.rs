//! Names of the streaming API's disconnect codes, as its documentation lists them.

/// The documented name of a disconnect code; `"Unknown"` for codes the documentation does not
/// list (the API may add codes without warning, so they are kept, not refused).
pub fn disconnect_code_name(code: i64) -> &'static str {
    match code {
        1 => "Shutdown",
        2 => "Duplicate stream",
        3 => "Control request",
        4 => "Stall",
        5 => "Normal",
        6 => "Token revoked",
        7 => "Admin logout",
        8 => "Reserved",
        9 => "Max message limit",
        10 => "Stream exception",
        11 => "Broker stall",
        12 => "Shed load",
        _ => "Unknown",
    }
}
