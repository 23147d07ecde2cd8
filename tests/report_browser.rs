//! The library's HTML report in a real browser: headless Chromium renders it to a PNG, and the
//! picture must not be blank — many colours, a fair share of non-white pixels, and the colours
//! of delivered and denied packet paths present. Skipped with a message where Chromium is not
//! installed; under CI (`CI=true`, where .ci/run installs Debian's `chromium`) that is a failure.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn chromium() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    for dir in std::env::split_paths(&path) {
        for name in ["chromium", "chromium-browser", "google-chrome"] {
            let p = dir.join(name);
            if p.is_file() {
                return Some(p);
            }
        }
    }
    None
}

/// Render `page` to `png` with a fresh profile and nothing reaching the network.
fn screenshot(browser: &Path, page: &Path, png: &Path, profile: &Path) {
    let _ = std::fs::remove_dir_all(profile);
    // Its messages go to a file (a pipe nobody reads could fill up and stall it).
    let log = png.with_extension("log");
    let mut child = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            "--window-size=1400,1800",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!("--screenshot={}", png.display()))
        .arg(format!("file://{}", page.display()))
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    // A browser that hangs fails the test instead of hanging it.
    let deadline = Instant::now() + Duration::from_secs(120);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("chromium did not finish its screenshot within 120 s");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(
        png.is_file(),
        "no screenshot; chromium said: {}",
        std::fs::read_to_string(&log).unwrap_or_default()
    );
}

/// RGB pixels of a PNG.
fn pixels(png: &Path) -> (u32, u32, Vec<[u8; 3]>) {
    let decoder = png::Decoder::new(std::fs::File::open(png).unwrap());
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    let step = match info.color_type {
        png::ColorType::Rgba => 4,
        png::ColorType::Rgb => 3,
        other => panic!("unexpected PNG colour type {other:?}"),
    };
    assert_eq!(info.bit_depth, png::BitDepth::Eight);
    let px = buf[..info.buffer_size()]
        .chunks(step)
        .map(|c| [c[0], c[1], c[2]])
        .collect();
    (info.width, info.height, px)
}

fn near(p: [u8; 3], hex: u32, tol: i32) -> bool {
    let want = [(hex >> 16) as u8, (hex >> 8) as u8, hex as u8];
    p.iter()
        .zip(want)
        .all(|(a, b)| (*a as i32 - b as i32).abs() <= tol)
}

#[test]
fn the_library_report_renders_in_headless_chromium() {
    let Some(browser) = chromium() else {
        let msg = "chromium not installed: the browser test of the HTML report is skipped (apt-get install chromium)";
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "{msg}; CI must have it (.ci/run installs it)"
        );
        eprintln!("skipped: {msg}");
        return;
    };
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("report_browser");
    std::fs::create_dir_all(&dir).unwrap();
    let page = dir.join("library.html");
    let png = dir.join("library.png");
    let _ = std::fs::remove_file(&png);
    let o = Command::new(env!("CARGO_BIN_EXE_hnsim"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["run", "scenarios/", "--format", "html", "--out"])
        .arg(&page)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0));
    screenshot(&browser, &page, &png, &dir.join("profile"));
    let (w, h, px) = pixels(&png);
    assert_eq!((w, h), (1400, 1800));
    let non_white = px.iter().filter(|p| p.iter().any(|&c| c < 235)).count();
    let share = non_white as f64 / px.len() as f64;
    assert!(
        share > 0.05,
        "only {:.1}% of the screenshot is not white",
        share * 100.0
    );
    let colours: std::collections::BTreeSet<[u8; 3]> = px.iter().copied().collect();
    assert!(colours.len() > 200, "only {} distinct colours", colours.len());
    // Paths are drawn: the Delivered green and the DeniedIn/DeniedOut red are on screen.
    for (what, hex) in [("delivered path green", 0x0a8f3c), ("denied path red", 0xd32f2f)] {
        let n = px.iter().filter(|p| near(**p, hex, 24)).count();
        assert!(n > 200, "{what} #{hex:06x}: {n} pixels");
    }
}
