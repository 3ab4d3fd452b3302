//! The vocabulary statuses and users are made of: alphabets, languages and their words,
//! emoji, hashtags, names, profile themes, clients, sites and cities.

pub(super) const HEX: &[u8; 16] = b"0123456789abcdef";
pub(super) const BASE36: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";
pub(super) const B64URL: &[u8] =
    b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_";

pub(super) struct Lang {
    pub(super) code: &'static str,
    pub(super) words: &'static [&'static str],
}

pub(super) const LANG_WEIGHTS: &[u32] = &[52, 12, 10, 8, 6, 4, 5, 3];
#[rustfmt::skip]
pub(super) const LANGS: &[Lang] = &[
    Lang {
        code: "en",
        words: &[
            "the", "a", "is", "this", "that", "just", "really", "new", "today", "tomorrow", "love",
            "great", "amazing", "can't", "believe", "what", "happened", "we", "you", "I", "they",
            "going", "to", "be", "with", "for", "and", "but", "so", "not", "my", "your", "best",
            "day", "night", "week", "time", "people", "world", "game", "music", "news", "think",
            "know", "want", "need", "get", "got", "see", "look", "finally", "again", "thanks",
            "everyone", "who", "why", "how", "when", "here", "there", "don't", "it's", "I'm",
            "lol", "omg", "wow", "yes", "no", "ever", "never", "always", "still", "more", "free",
            "live", "now", "big", "little", "team", "city", "home", "work", "life", "happy", "sad",
            "crazy", "weekend", "coffee", "pizza", "party", "song", "movie", "book", "story",
            "thread", "naïve", "café", "résumé",
        ],
    },
    Lang {
        code: "es",
        words: &[
            "hoy", "mañana", "qué", "está", "también", "corazón", "año", "niño", "más", "pero",
            "muy", "bien", "gracias", "todos", "vamos", "fútbol", "partido", "canción", "mejor",
            "día", "noche", "amigo", "familia", "siempre", "nunca", "¿por", "qué?", "¡increíble!",
            "después", "aquí", "sí", "el", "la", "los", "las", "de", "que", "y", "en", "un", "una",
            "es",
        ],
    },
    Lang {
        code: "ja",
        words: &[
            "今日は", "東京", "ありがとう", "天気", "楽しい", "日本", "明日", "ラーメン", "かわいい", "すごい", "本当に", "みんな",
            "おはよう", "おやすみ", "仕事", "映画", "音楽", "友達", "猫", "桜", "新しい", "最高", "頑張る", "。", "、", "！",
            "？", "ｗｗｗ",
        ],
    },
    Lang {
        code: "pt",
        words: &[
            "não", "coração", "você", "ação", "amanhã", "hoje", "muito", "obrigado", "obrigada",
            "também", "já", "está", "são", "pão", "irmão", "mãe", "pai", "jogo", "futebol",
            "saudade", "boa", "noite", "dia", "feliz", "sempre", "nunca", "o", "a", "os", "as",
            "de", "que", "e", "em", "um", "uma",
        ],
    },
    Lang {
        code: "fr",
        words: &[
            "très", "été", "déjà", "où", "français", "c'est", "l'équipe", "aujourd'hui", "demain",
            "merci", "beaucoup", "voilà", "ça", "va", "être", "avoir", "fête", "île", "garçon",
            "cœur", "nous", "vous", "ils", "elle", "le", "la", "les", "de", "et", "mais", "pour",
            "avec", "pas", "plus", "rien", "toujours", "jamais", "«", "»",
        ],
    },
    Lang {
        code: "de",
        words: &[
            "schön", "für", "über", "Straße", "Grüße", "heute", "morgen", "müssen", "können", "wir",
            "ihr", "sie", "der", "die", "das", "und", "aber", "nicht", "sehr", "gut", "danke",
            "Fußball", "Spiel", "Mädchen", "Brötchen", "Käse", "zurück", "groß", "klein", "immer",
            "nie", "endlich",
        ],
    },
    Lang {
        code: "ar",
        words: &[
            "مرحبا", "شكرا", "اليوم", "غدا", "جميل", "الله", "حب", "كرة", "القدم", "صباح", "الخير",
            "مساء", "السلام", "عليكم", "في", "من", "على", "إلى", "هذا", "كل",
        ],
    },
    Lang {
        code: "und",
        words: &[
            "😂😂😂", "🔥🔥", "❤️", "👀", "💯", "🙏🏽", "😭😭", "✨", "🎉🎉", "👏👏👏",
        ],
    },
];

#[rustfmt::skip]
pub(super) const EMOJI: &[&str] = &[
    "😀", "😂", "🤣", "❤️", "🔥", "👍", "🙏", "🎉", "✨", "😍", "😭", "🥺", "🚀", "💯", "👀", "🤔", "😎", "🌍", "⚽",
    "🍕", "☕", "🇧🇷", "🇩🇪", "👨‍💻", "👩‍👩‍👧", "🏳️‍🌈", "✅", "⚡", "🌸", "🎶",
];

#[rustfmt::skip]
pub(super) const HASHTAGS: &[&str] = &[
    "#Rust", "#100DaysOfCode", "#MondayMotivation", "#café", "#日本", "#FelizLunes",
    "#ThrowbackThursday", "#WorldCup", "#NowPlaying", "#COVID19", "#Bitcoin", "#ClimateAction",
    "#MachineLearning", "#AI", "#OpenSource", "#BTS", "#K_POP", "#Fútbol", "#München", "#Paris2024",
    "#StarWars", "#Halloween", "#TBT", "#Photography", "#Travel", "#NFT", "#Eurovision", "#Ramadan",
    "#Oscars", "#NBA", "#F1", "#Música", "#İstanbul", "#Wordle", "#science", "#art",
];

#[rustfmt::skip]
pub(super) const SYMBOLS: &[&str] = &["$AAPL", "$TSLA", "$BTC", "$ETH", "$GME", "$AMZN", "$NVDA"];

pub(super) const SPECIALS: &[&str] = &[
    "&amp;",
    "&lt;3",
    "¯\\_(ツ)_/¯",
    "...",
    "!!",
    "?!",
    "\u{2014}",
    "\u{2026}",
    "(1/3)",
    "C:\\Users\\me",
    "\"quoted\"",
    "\t",
    "x\u{200d}y",
];

#[rustfmt::skip]
pub(super) const SLUG_WORDS: &[&str] = &[
    "how", "to", "why", "the", "new", "best", "guide", "rust", "climate", "election", "market",
    "report", "season", "final", "review", "city", "story", "data", "music", "world", "cup",
    "launch", "release", "notes", "2022", "update",
];

#[rustfmt::skip]
pub(super) const HANDLE_A: &[&str] = &[
    "the", "real", "its", "mr", "ms", "dr", "just", "hey", "official", "daily", "team", "club",
    "news", "fan", "love", "cool", "happy", "lazy", "night", "sunny", "tech", "code", "music",
    "art", "foto", "futbol", "gamer", "vegan", "travel", "coffee",
];

#[rustfmt::skip]
pub(super) const HANDLE_B: &[&str] = &[
    "cat", "dog", "coder", "writer", "girl", "guy", "maker", "dev", "nerd", "fox", "owl", "wolf",
    "bear", "panda", "rider", "chef", "pixel", "byte", "star", "moon", "sky", "wave", "rocks",
    "life", "vibes", "daily", "hq", "tv", "fm", "bot",
];

#[rustfmt::skip]
pub(super) const FIRST_NAMES: &[&str] = &[
    "María", "José", "Jürgen", "Zoë", "Chloé", "Ahmed", "Yuki", "Oluwaseun", "Priya", "Liam",
    "Olivia", "Noah", "Emma", "Mateo", "Sofía", "Lukas", "Léa", "Hiroshi", "Aiko", "Fatima", "Omar",
    "Ana", "João", "Chen", "Wei", "Ingrid", "Søren", "Björn", "Dmitri", "Ayşe", "Mehmet", "Anaïs",
    "Raphaël", "Grace", "Kwame", "Nia", "Mia", "Lucas", "Gabriel", "Isabella",
];

#[rustfmt::skip]
pub(super) const LAST_NAMES: &[&str] = &[
    "García", "Müller", "Smith", "Nakamura", "Silva", "Dubois", "Okafor", "Sharma", "Johnson",
    "Rossi", "Kowalski", "Öztürk", "Nguyen", "Kim", "Hansen", "Pérez", "O'Brien", "da Costa",
    "Ivanov", "Schröder", "Fernández", "Tanaka", "Li", "Brown", "Dupont",
];

#[rustfmt::skip]
pub(super) const CJK_NAMES: &[&str] = &[
    "山田太郎", "佐藤花子", "김민준", "李小龙", "محمد علي", "Ελένη", "Иван Петров",
];

#[rustfmt::skip]
pub(super) const LOCATIONS: &[&str] = &[
    "Berlin, Deutschland", "São Paulo, Brasil", "London", "NYC", "Los Angeles, CA", "Tokyo", "東京都",
    "Paris, France", "Madrid", "México", "Lagos, Nigeria", "Mumbai", "Earth 🌍",
    "somewhere over the rainbow 🌈", "Toronto, Ontario", "Zürich", "Kraków, Polska", "İstanbul",
    "Buenos Aires", "at home", "\"the cloud\"", "Sydney 🇦🇺", "Seoul, Korea", "Montréal, QC",
];

pub(super) const DESC_SEPS: &[&str] = &[" | ", " • ", ". ", "\n", " / ", " 🌟 "];

pub(super) const DESCRIPTIONS: &[&str] = &[
    "Coffee addict ☕",
    "Opinions are my own",
    "she/her",
    "he/him",
    "Dad of 3 👨‍👩‍👧",
    "Software engineer @ \"Acme Corp\"",
    "Photographer 📷 Traveler ✈️",
    "Fan of #Rust and good food",
    "Periodista. Opiniones propias.",
    "Étudiante en médecine 🩺",
    "Fußball ist unser Leben ⚽",
    "東京在住のエンジニア",
    "RT ≠ endorsement",
    "Life is short. Eat dessert first 🍰",
    "Not financial advice",
    "Living my best life 🌴",
    "Proud member of the \"night owls\" club 🦉",
    "Backslash fan: C:\\Users\\me",
    "Writer, reader, occasional runner",
    "Official account of a totally real company",
    "Breaking news and analysis from around the world",
    "Música, cine y más",
    "Ich mag Züge 🚆",
    "Je tweete en français et en anglais",
    "Building things on the internet since 1999",
];

pub(super) struct Theme {
    pub(super) bg: &'static str,
    pub(super) number: u32,
    pub(super) link: &'static str,
    pub(super) border: &'static str,
    pub(super) fill: &'static str,
    pub(super) text: &'static str,
    pub(super) use_image: bool,
}

#[rustfmt::skip]
pub(super) const THEMES: &[Theme] = &[
    Theme { bg: "C0DEED", number: 1, link: "1DA1F2", border: "C0DEED", fill: "DDEEF6", text: "333333", use_image: true },
    Theme { bg: "000000", number: 1, link: "1B95E0", border: "000000", fill: "000000", text: "000000", use_image: false },
    Theme { bg: "F5F8FA", number: 1, link: "FF691F", border: "FFFFFF", fill: "DDEEF6", text: "333333", use_image: true },
    Theme { bg: "022330", number: 15, link: "0084B4", border: "A8C7F7", fill: "C0DFEC", text: "333333", use_image: true },
    Theme { bg: "352726", number: 5, link: "D02B55", border: "829D5E", fill: "99CC33", text: "3E4415", use_image: true },
    Theme { bg: "1A1B1F", number: 9, link: "2FC2EF", border: "181A1E", fill: "252429", text: "666666", use_image: true },
    Theme { bg: "FFF04D", number: 19, link: "0099CC", border: "FFF8AD", fill: "F6FFD1", text: "333333", use_image: true },
    Theme { bg: "642D8B", number: 10, link: "FF0000", border: "65B0DA", fill: "7AC3EE", text: "3D1957", use_image: true },
];

/// (name, url) of the client, and its share of statuses in percent (shares sum to 100).
pub(super) const SOURCES: &[((&str, &str), u32)] = &[
    (
        ("Twitter for iPhone", "http://twitter.com/download/iphone"),
        35,
    ),
    (
        ("Twitter for Android", "http://twitter.com/download/android"),
        33,
    ),
    (("Twitter Web App", "https://mobile.twitter.com"), 16),
    (
        ("Twitter for iPad", "http://twitter.com/#!/download/ipad"),
        3,
    ),
    (
        ("TweetDeck", "https://about.twitter.com/products/tweetdeck"),
        3,
    ),
    (("IFTTT", "https://ifttt.com"), 2),
    (("Buffer", "https://buffer.com"), 2),
    (("Hootsuite Inc.", "https://www.hootsuite.com"), 3),
    (("dlvr.it", "https://dlvr.it"), 2),
    (("Echobox", "https://www.echobox.com"), 1),
];

#[rustfmt::skip]
pub(super) const MEDIA_DIMS: &[(u32, u32)] = &[
    (1080, 1080),
    (1920, 1080),
    (1080, 1350),
    (750, 1334),
    (4032, 3024),
];

#[rustfmt::skip]
pub(super) const WITHHELD_COUNTRIES: &[&str] = &["DE", "AR", "FR", "TR", "IN", "RU", "BR", "GB", "JP", "KR"];

pub(super) struct City {
    pub(super) name: &'static str,
    pub(super) full_name: &'static str,
    pub(super) country: &'static str,
    pub(super) cc: &'static str,
    /// Centre, in micro-degrees.
    pub(super) lat: i64,
    pub(super) lon: i64,
    /// Half the side of the bounding box, in micro-degrees.
    pub(super) half: i64,
}

const fn city(
    name: &'static str,
    full_name: &'static str,
    country: &'static str,
    cc: &'static str,
    lat: i64,
    lon: i64,
    half: i64,
) -> City {
    City {
        name,
        full_name,
        country,
        cc,
        lat,
        lon,
        half,
    }
}

#[rustfmt::skip]
pub(super) const CITIES: &[City] = &[
    city("Berlin", "Berlin, Deutschland", "Deutschland", "DE", 52_520_008, 13_404_954, 170_000),
    city("Paris", "Paris, France", "France", "FR", 48_856_613, 2_352_222, 90_000),
    city("Madrid", "Madrid, España", "España", "ES", 40_416_775, -3_703_790, 150_000),
    city("São Paulo", "São Paulo, Brasil", "Brasil", "BR", -23_550_520, -46_633_308, 300_000),
    city("Buenos Aires", "Buenos Aires, Argentina", "Argentina", "AR", -34_603_722, -58_381_592, 120_000),
    city("Shinjuku-ku", "Shinjuku-ku, Tokyo", "日本", "JP", 35_689_487, 139_691_711, 30_000),
    city("Manhattan", "Manhattan, NY", "United States", "US", 40_783_058, -73_971_252, 100_000),
    city("Los Angeles", "Los Angeles, CA", "United States", "US", 34_052_235, -118_243_683, 300_000),
    city("London", "London, England", "United Kingdom", "GB", 51_507_351, -127_758, 250_000),
    city("Ciudad de México", "Ciudad de México, México", "México", "MX", 19_432_608, -99_133_209, 200_000),
    city("İstanbul", "İstanbul, Türkiye", "Türkiye", "TR", 41_008_240, 28_978_359, 300_000),
    city("Mumbai", "Mumbai, India", "India", "IN", 19_075_983, 72_877_655, 150_000),
    city("Lagos", "Lagos, Nigeria", "Nigeria", "NG", 6_524_379, 3_379_206, 200_000),
    city("Sydney", "Sydney, New South Wales", "Australia", "AU", -33_868_820, 151_209_290, 400_000),
    city("Toronto", "Toronto, Ontario", "Canada", "CA", 43_653_225, -79_383_186, 200_000),
    city("Jakarta", "Jakarta, Indonesia", "Indonesia", "ID", -6_208_763, 106_845_599, 200_000),
    city("Seoul", "Seoul, Republic of Korea", "Republic of Korea", "KR", 37_566_536, 126_977_966, 150_000),
    city("Montréal", "Montréal, Québec", "Canada", "CA", 45_501_690, -73_567_253, 150_000),
    city("Zürich", "Zürich, Schweiz", "Schweiz", "CH", 47_376_888, 8_541_694, 60_000),
    city("Kraków", "Kraków, Polska", "Polska", "PL", 50_064_651, 19_944_981, 100_000),
];
