//! The content of a status (text, entities, media and location), rebuilt from its seed each
//! time it is written, so that every copy of a status is the same.

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

use super::links::{SITE_COUNT, tco_code};
use super::memory::StatusSpec;
use super::random::{pick_source, pick_weighted};
use super::words::{
    CITIES, EMOJI, HASHTAGS, LANG_WEIGHTS, LANGS, Lang, MEDIA_DIMS, SPECIALS, SYMBOLS,
};
use super::world::World;

/// What an entity is, with what is needed to write its JSON object.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum EntKind {
    Hashtag,
    Symbol,
    Mention(u32),
    Url { site: u8, path: u64 },
    QuoteLink { id: u64, user: u32 },
    Media,
}

/// An entity of a text: byte range in the text, and Twitter's code-point `indices`.
#[derive(Clone, Copy, Debug)]
pub(super) struct Ent {
    pub(super) kind: EntKind,
    pub(super) b0: u32,
    pub(super) b1: u32,
    pub(super) c0: u32,
    pub(super) c1: u32,
}

/// An attached photo: its id, size and the key of its image URL.
#[derive(Clone, Copy, Debug)]
pub(super) struct Media {
    pub(super) id: u64,
    pub(super) w: u32,
    pub(super) h: u32,
    pub(super) key: u64,
}

/// A status's location: a point inside one of the [`CITIES`].
#[derive(Clone, Copy, Debug)]
pub(super) struct Geo {
    pub(super) city: usize,
    pub(super) lat: i64,
    pub(super) lon: i64,
}

/// The content of one status (its full text and entities), rebuilt from a seed whenever the
/// status is written, so that a retweeted original looks the same every time.
#[derive(Default)]
pub(super) struct Scratch {
    pub(super) text: String,
    pub(super) cps: u32,
    pub(super) ents: Vec<Ent>,
    /// (byte, code point) offsets where the text may be cut: after each token.
    pub(super) bounds: Vec<(u32, u32)>,
    pub(super) lang: &'static str,
    pub(super) source: usize,
    pub(super) media: Option<Media>,
    /// Code points before the displayed text: a reply's leading `@mention `.
    pub(super) display_start: u32,
    /// Code points of the text without a trailing media link.
    pub(super) display_end: u32,
    pub(super) geo: Option<Geo>,
    pub(super) sensitive: bool,
    pub(super) has_links: bool,
    /// Reused buffer for `@screen_name` tokens.
    name: String,
}

impl Scratch {
    /// Forgets the previous status, keeping the buffers.
    fn clear(&mut self) {
        self.text.clear();
        self.cps = 0;
        self.ents.clear();
        self.bounds.clear();
        self.media = None;
        self.geo = None;
        self.display_start = 0;
        self.sensitive = false;
        self.has_links = false;
    }

    /// Appends text that is not an entity.
    fn push_plain(&mut self, s: &str) {
        self.text.push_str(s);
        self.cps += s.chars().count() as u32;
    }

    /// Records that the text may be cut here.
    fn mark(&mut self) {
        self.bounds.push((self.text.len() as u32, self.cps));
    }

    /// Appends an entity's text and records where it is.
    fn push_ent(&mut self, kind: EntKind, s: &str) {
        let b0 = self.text.len() as u32;
        let c0 = self.cps;
        self.push_plain(s);
        self.ents.push(Ent {
            kind,
            b0,
            b1: self.text.len() as u32,
            c0,
            c1: self.cps,
        });
    }

    /// Appends a 23-character t.co link as an entity.
    fn push_tco(&mut self, kind: EntKind, key: u64) {
        let mut buf = [0u8; 23];
        buf[..13].copy_from_slice(b"https://t.co/");
        tco_code(key, &mut buf[13..]);
        // The buffer is ASCII by construction.
        self.push_ent(kind, std::str::from_utf8(&buf).unwrap_or_default());
    }

    /// Builds the text and entities of an original (or quoting) status from its seed. Every
    /// step draws from the same generator, in this order.
    pub(super) fn fill(
        &mut self,
        w: &World,
        spec: &StatusSpec,
        quote: Option<(u64, u32)>,
        p_geo: f64,
    ) {
        self.clear();
        let mut rng = SmallRng::seed_from_u64(spec.seed);
        let lang = &LANGS[pick_weighted(&mut rng, LANG_WEIGHTS)];
        self.lang = lang.code;
        self.source = pick_source(&mut rng);
        let mut name = std::mem::take(&mut self.name);
        name.clear();
        if let Some((_, user)) = spec.reply {
            name.push('@');
            w.screen_name(user, &mut name);
            self.push_ent(EntKind::Mention(user), &name);
            self.mark();
            self.push_plain(" ");
            self.display_start = self.cps;
        }
        self.push_words(w, &mut rng, lang, &mut name);
        self.name = name;
        self.push_links(&mut rng, quote);
        self.display_end = self.cps;
        self.push_media(&mut rng, spec);
        self.sensitive = self.has_links && rng.random_bool(0.03);
        if rng.random_bool(p_geo) {
            let city = rng.random_range(0..CITIES.len());
            let c = &CITIES[city];
            self.geo = Some(Geo {
                city,
                lat: c.lat + rng.random_range(-c.half..=c.half),
                lon: c.lon + rng.random_range(-c.half..=c.half),
            });
        }
    }

    /// The body: tokens separated by spaces or line breaks up to a drawn length (short,
    /// ordinary or long enough to need `extended_tweet`).
    #[inline]
    fn push_words(&mut self, w: &World, rng: &mut SmallRng, lang: &Lang, name: &mut String) {
        // Code points of content, after a reply's leading mention.
        let target: u32 = self.cps
            + match rng.random_range(0..100) {
                0..=9 => rng.random_range(10..40),
                10..=77 => rng.random_range(40..120),
                _ => rng.random_range(140..230),
            };
        let mut first = true;
        while self.cps < target {
            if !first {
                match rng.random_range(0..100) {
                    0..=2 => self.push_plain("\n"),
                    3 => self.push_plain("\n\n"),
                    4..=5 if lang.code == "ja" => {}
                    _ => self.push_plain(" "),
                }
            }
            first = false;
            self.push_token(w, rng, lang, name);
            self.mark();
        }
    }

    /// One token: mostly a word of the language, sometimes an emoji, an entity, a quotation
    /// or a special character (a table of draws: it reads best whole).
    #[inline]
    fn push_token(&mut self, w: &World, rng: &mut SmallRng, lang: &Lang, name: &mut String) {
        match rng.random_range(0..100) {
            0..=6 => self.push_plain(EMOJI[rng.random_range(0..EMOJI.len())]),
            7..=11 => {
                let tag = HASHTAGS[rng.random_range(0..HASHTAGS.len())];
                self.push_ent(EntKind::Hashtag, tag);
            }
            12..=14 => {
                let user = w.zipf(rng);
                name.clear();
                name.push('@');
                w.screen_name(user, name);
                self.push_ent(EntKind::Mention(user), name);
            }
            15 => {
                let sym = SYMBOLS[rng.random_range(0..SYMBOLS.len())];
                self.push_ent(EntKind::Symbol, sym);
            }
            16..=17 => {
                let (open, close) = if rng.random_bool(0.7) {
                    ("\"", "\"")
                } else {
                    ("\u{201c}", "\u{201d}")
                };
                self.push_plain(open);
                self.push_plain(lang.words[rng.random_range(0..lang.words.len())]);
                self.push_plain(close);
            }
            18..=19 => self.push_plain(SPECIALS[rng.random_range(0..SPECIALS.len())]),
            _ => self.push_plain(lang.words[rng.random_range(0..lang.words.len())]),
        }
    }

    /// Sometimes a link to a site, and a quote's link to the quoted status.
    #[inline]
    fn push_links(&mut self, rng: &mut SmallRng, quote: Option<(u64, u32)>) {
        // Links are 23 code points; the displayed text stays within Twitter's 280.
        let room_for_links = if quote.is_some() {
            280 - 2 * 24
        } else {
            280 - 24
        };
        if self.cps <= room_for_links && rng.random_bool(0.3) {
            self.push_plain(" ");
            let site = rng.random_range(0..SITE_COUNT);
            let path = rng.random();
            self.push_tco(EntKind::Url { site, path }, path);
            self.mark();
            self.has_links = true;
        }
        if let Some((id, user)) = quote {
            self.push_plain(" ");
            self.push_tco(EntKind::QuoteLink { id, user }, id ^ 0x9107);
            self.mark();
            self.has_links = true;
        }
    }

    /// Sometimes a photo, taken up to ten minutes before the status, and its trailing link.
    #[inline]
    fn push_media(&mut self, rng: &mut SmallRng, spec: &StatusSpec) {
        if rng.random_bool(0.22) {
            let ago = rng.random_range(1_000..600_000u64);
            let (mw, mh) = MEDIA_DIMS[rng.random_range(0..MEDIA_DIMS.len())];
            let media = Media {
                id: spec.id.saturating_sub(ago << 22) | rng.random_range(0..4096u64),
                w: mw,
                h: mh,
                key: rng.random(),
            };
            self.push_plain(" ");
            self.push_tco(EntKind::Media, media.id);
            self.mark();
            self.media = Some(media);
            self.has_links = true;
        }
    }

    /// Builds a retweet's `RT @user: ...` text, cut to 140 code points like the real thing.
    pub(super) fn fill_retweet(
        &mut self,
        w: &World,
        orig: &Scratch,
        orig_user: u32,
        source: usize,
    ) {
        self.clear();
        self.lang = orig.lang;
        self.source = source;
        self.push_plain("RT ");
        let mut name = std::mem::take(&mut self.name);
        name.clear();
        name.push('@');
        w.screen_name(orig_user, &mut name);
        self.push_ent(EntKind::Mention(orig_user), &name);
        self.name = name;
        self.push_plain(": ");
        let (pb, pc) = (self.text.len() as u32, self.cps);
        let room = 140 - pc.min(139);
        let (cut_b, cut_c, ellipsis) = if orig.cps <= room {
            (orig.text.len() as u32, orig.cps, false)
        } else {
            let (b, c) = orig
                .bounds
                .iter()
                .copied()
                .take_while(|&(_, c)| c < room)
                .last()
                .unwrap_or((0, 0));
            (b, c, true)
        };
        self.text.push_str(&orig.text[..cut_b as usize]);
        self.cps += cut_c;
        for e in &orig.ents {
            if e.b1 <= cut_b && e.kind != EntKind::Media {
                self.ents.push(Ent {
                    kind: e.kind,
                    b0: e.b0 + pb,
                    b1: e.b1 + pb,
                    c0: e.c0 + pc,
                    c1: e.c1 + pc,
                });
                if matches!(e.kind, EntKind::Url { .. }) {
                    self.has_links = true;
                }
            }
        }
        if ellipsis {
            self.push_plain("\u{2026}");
        }
        self.display_end = self.cps;
    }
}
