//! Filtered-stream rules: parsing a rule's `value` (or saying why it is invalid, as the rules
//! API does) and matching it against a Post.
//!
//! The subset of the rule language the simulator knows:
//! - a bare word (`cat`): the Post's text holds it as a whole word, case-insensitively (text
//!   and word are split into runs of letters and digits, so `cat` matches `Cat!` but not
//!   `category`; a word such as `don't` is the phrase `don t`);
//! - a quoted phrase (`"breaking news"`): those words, consecutive;
//! - juxtaposition is AND, `OR` (upper case) is OR and binds looser, parentheses group;
//! - `-term` negates a word, phrase, operator or group;
//! - operators `lang:xx`, `from:ID` (author id, or `user_ID` username), `is:retweet`,
//!   `is:quote`, `is:reply`, `has:geo`.
//!
//! Invalid: an empty value, a value over [`MAX_RULE_CHARS`] characters, unbalanced parentheses
//! or quotes, any other `name:value` operator, a `-` or `OR` with nothing to apply to, and a
//! rule of negations alone.

use crate::generate::posts::PostFacts;

/// Longest rule value accepted, in characters (the basic access levels' limit).
pub const MAX_RULE_CHARS: usize = 512;

/// A parsed rule.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// Consecutive lower-cased words.
    Phrase(Vec<String>),
    Lang(String),
    From(String),
    Is(&'static str),
    HasGeo,
    Not(Box<Expr>),
    And(Vec<Expr>),
    Or(Vec<Expr>),
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Open,
    Close,
    Or,
    Minus,
    Quoted(String),
    Word(String),
}

/// Parses a rule value; `Err` is the `details` entry the rules API answers with.
pub fn parse(value: &str) -> Result<Expr, String> {
    if value.trim().is_empty() {
        return Err("Rules must have a non-empty value".into());
    }
    let chars = value.chars().count();
    if chars > MAX_RULE_CHARS {
        return Err(format!(
            "Rule is {chars} characters long, over the limit of {MAX_RULE_CHARS}"
        ));
    }
    let tokens = tokenize(value)?;
    let mut parser = Parser { tokens, at: 0 };
    let expr = parser.or()?;
    if parser.at < parser.tokens.len() {
        return Err("Unbalanced parentheses: a `)` closes nothing".into());
    }
    if !positive(&expr) {
        return Err("Rules must contain at least one positive, non-negated term".into());
    }
    Ok(expr)
}

/// Whether `expr` matches the Post.
pub fn matches(expr: &Expr, post: &PostFacts, words: &[String]) -> bool {
    match expr {
        Expr::Phrase(phrase) => words
            .windows(phrase.len().max(1))
            .any(|w| w == phrase.as_slice()),
        Expr::Lang(lang) => post.lang == lang,
        Expr::From(who) => {
            let id = post.author_id.to_string();
            *who == id || who.strip_prefix("user_") == Some(id.as_str())
        }
        Expr::Is(kind) => match *kind {
            "retweet" => post.is_retweet,
            "quote" => post.is_quote,
            _ => post.is_reply,
        },
        Expr::HasGeo => post.has_geo,
        Expr::Not(inner) => !matches(inner, post, words),
        Expr::And(all) => all.iter().all(|e| matches(e, post, words)),
        Expr::Or(any) => any.iter().any(|e| matches(e, post, words)),
    }
}

/// A text as the words rules compare: runs of letters and digits, lower-cased.
pub fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// Whether a match can ever come from something present rather than absent.
fn positive(expr: &Expr) -> bool {
    match expr {
        Expr::Not(_) => false,
        Expr::And(all) => all.iter().any(positive),
        Expr::Or(any) => any.iter().all(positive),
        _ => true,
    }
}

fn tokenize(value: &str) -> Result<Vec<Token>, String> {
    let mut tokens = Vec::new();
    let mut chars = value.chars().peekable();
    while let Some(&c) = chars.peek() {
        match c {
            c if c.is_whitespace() => {
                chars.next();
            }
            '(' | ')' => {
                chars.next();
                tokens.push(if c == '(' { Token::Open } else { Token::Close });
            }
            '"' => {
                chars.next();
                let mut phrase = String::new();
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some(c) => phrase.push(c),
                        None => return Err("Unbalanced quotes: a `\"` is never closed".into()),
                    }
                }
                tokens.push(Token::Quoted(phrase));
            }
            '-' => {
                chars.next();
                tokens.push(Token::Minus);
            }
            _ => {
                let mut word = String::new();
                while let Some(&c) = chars.peek() {
                    if c.is_whitespace() || matches!(c, '(' | ')' | '"') {
                        break;
                    }
                    word.push(c);
                    chars.next();
                }
                tokens.push(if word == "OR" {
                    Token::Or
                } else {
                    Token::Word(word)
                });
            }
        }
    }
    Ok(tokens)
}

struct Parser {
    tokens: Vec<Token>,
    at: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at)
    }

    fn or(&mut self) -> Result<Expr, String> {
        let mut any = vec![self.and()?];
        while self.peek() == Some(&Token::Or) {
            self.at += 1;
            any.push(self.and()?);
        }
        Ok(if any.len() == 1 {
            any.remove(0)
        } else {
            Expr::Or(any)
        })
    }

    fn and(&mut self) -> Result<Expr, String> {
        let mut all = Vec::new();
        while let Some(token) = self.peek() {
            if matches!(token, Token::Or | Token::Close) {
                break;
            }
            all.push(self.unary()?);
        }
        match all.len() {
            0 => Err("`OR` needs a term on each side".into()),
            1 => Ok(all.remove(0)),
            _ => Ok(Expr::And(all)),
        }
    }

    fn unary(&mut self) -> Result<Expr, String> {
        if self.peek() == Some(&Token::Minus) {
            self.at += 1;
            return match self.peek() {
                None | Some(Token::Or | Token::Close | Token::Minus) => {
                    Err("A `-` must be followed by the term it negates".into())
                }
                _ => Ok(Expr::Not(Box::new(self.atom()?))),
            };
        }
        self.atom()
    }

    fn atom(&mut self) -> Result<Expr, String> {
        let token = self.tokens.get(self.at).cloned();
        self.at += 1;
        match token {
            Some(Token::Open) => {
                let inner = self.or()?;
                if self.peek() != Some(&Token::Close) {
                    return Err("Unbalanced parentheses: a `(` is never closed".into());
                }
                self.at += 1;
                Ok(inner)
            }
            Some(Token::Quoted(phrase)) => phrase_of(&phrase),
            Some(Token::Word(word)) => word_or_operator(&word),
            _ => Err("Unbalanced parentheses: a `)` closes nothing".into()),
        }
    }
}

fn phrase_of(text: &str) -> Result<Expr, String> {
    let phrase = words(text);
    if phrase.is_empty() {
        return Err(format!("`{text}` holds no word to match"));
    }
    Ok(Expr::Phrase(phrase))
}

fn word_or_operator(word: &str) -> Result<Expr, String> {
    let Some((name, value)) = word.split_once(':') else {
        return phrase_of(word);
    };
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphabetic() || c == '_') {
        return phrase_of(word);
    }
    let invalid = || {
        Err(format!(
            "Reference to invalid operator '{name}:{value}'. The simulator knows lang:, \
             from:, is:retweet, is:quote, is:reply and has:geo"
        ))
    };
    match (name, value) {
        ("lang", v) if !v.is_empty() => Ok(Expr::Lang(v.to_lowercase())),
        ("from", v) if !v.is_empty() => Ok(Expr::From(v.trim_start_matches('@').to_string())),
        ("is", "retweet") => Ok(Expr::Is("retweet")),
        ("is", "quote") => Ok(Expr::Is("quote")),
        ("is", "reply") => Ok(Expr::Is("reply")),
        ("has", "geo") => Ok(Expr::HasGeo),
        _ => invalid(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn post(text: &str) -> PostFacts {
        PostFacts {
            k: 0,
            id: 1,
            author_id: 42,
            lang: "en",
            text: text.into(),
            is_retweet: false,
            is_quote: true,
            is_reply: false,
            has_geo: false,
        }
    }

    fn hit(rule: &str, text: &str) -> bool {
        let p = post(text);
        matches(&parse(rule).unwrap(), &p, &words(&p.text))
    }

    #[test]
    fn words_match_whole_and_case_insensitively() {
        assert!(hit("cat", "a Cat! here"));
        assert!(!hit("cat", "category concat"));
        assert!(hit("CAT", "my cat"));
        assert!(hit("\"breaking news\"", "this is Breaking News, today"));
        assert!(!hit("\"breaking news\"", "news breaking"));
        assert!(hit("cat dog", "dog and cat"));
        assert!(!hit("cat dog", "cat only"));
        assert!(hit("cat OR dog", "dog only"));
        assert!(hit("cat -dog", "cat alone"));
        assert!(!hit("cat -dog", "cat and dog"));
        assert!(hit("(cat OR dog) -(rain OR \"breaking news\")", "dog day"));
        assert!(!hit(
            "(cat OR dog) -(rain OR \"breaking news\")",
            "dog rain"
        ));
        assert!(hit("cat lang:en is:quote from:42", "cat"));
        assert!(hit("cat from:user_42", "cat"));
        assert!(!hit("cat is:retweet", "cat"));
        assert!(!hit("cat has:geo", "cat"));
    }

    #[test]
    fn invalid_rules_say_why() {
        let long = "a".repeat(MAX_RULE_CHARS + 1);
        for bad in [
            "",
            "   ",
            "(cat",
            "cat)",
            "\"cat",
            "foo:bar",
            "is:dog",
            "-cat",
            "cat OR",
            "OR cat",
            "cat -",
            long.as_str(),
        ] {
            assert!(parse(bad).is_err(), "{bad:?} should be invalid");
        }
        assert!(parse(&"a".repeat(MAX_RULE_CHARS)).is_ok());
        assert!(
            parse("12:30 cat").is_ok(),
            "a time is a word, not an operator"
        );
        assert!(parse("cat -dog").is_ok());
    }
}
