//! A small tmpfs ([`Tmpfs`]) for disk-full tests: mounted on a fresh directory, filled up on
//! request, unmounted on drop.

use std::path::PathBuf;
use std::process::Command;

/// A tmpfs mounted on a fresh directory; unmounted on drop.
pub struct Tmpfs {
    pub dir: PathBuf,
}

impl Tmpfs {
    /// Mounts a tmpfs of `size_mib` MiB, or says why it cannot.
    pub fn mount(size_mib: u64) -> Result<Tmpfs, String> {
        let dir = std::env::temp_dir().join(format!("sv-tmpfs-{}", super::rand_suffix()));
        std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size_mib}m"), "tmpfs"])
            .arg(&dir)
            .output()
            .map_err(|e| format!("cannot run mount: {e}"))?;
        if !out.status.success() {
            let _ = std::fs::remove_dir(&dir);
            return Err(format!(
                "mount -t tmpfs failed (needs root or CAP_SYS_ADMIN): {}",
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
        Ok(Tmpfs { dir })
    }

    /// Fills the free space with a file (written until ENOSPC); returns its path and size.
    pub fn fill(&self, name: &str) -> (PathBuf, u64) {
        use std::io::Write;
        let path = self.dir.join(name);
        let mut f = std::fs::File::create(&path).unwrap();
        let block = vec![0xA5u8; 64 * 1024];
        let mut written = 0u64;
        loop {
            match f.write(&block) {
                Ok(0) => break,
                Ok(n) => written += n as u64,
                Err(e) if e.raw_os_error() == Some(28) => break, // ENOSPC
                Err(e) => panic!("filling {}: {e}", path.display()),
            }
        }
        // Smaller writes until not even a byte fits.
        for size in [4096usize, 512, 1] {
            loop {
                match f.write(&block[..size]) {
                    Ok(n) if n > 0 => written += n as u64,
                    _ => break,
                }
            }
        }
        let _ = f.sync_all();
        (path, written)
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.dir).status();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
