use super::*;

fn parse(src: &str) -> Result<PerlValue, ParseError> {
    Parser::new(src, "t").value(0)
}

#[test]
fn literals() {
    assert_eq!(parse("'a\\'b'"), Ok(PerlValue::Str("a'b".into())));
    assert_eq!(parse("\"x\\x{e9}\""), Ok(PerlValue::Str("xé".into())));
    assert_eq!(parse("-1.5e3"), Ok(PerlValue::Num(-1500.0)));
    assert_eq!(
        parse("{'a' => undef, b => [1,'2',],}"),
        Ok(PerlValue::List(vec![
            PerlValue::Str("a".into()),
            PerlValue::Undef,
            PerlValue::Str("b".into()),
            PerlValue::List(vec![PerlValue::Num(1.0), PerlValue::Str("2".into())]),
        ]))
    );
    assert_eq!(
        parse("bless( {'k' => 0}, 'Xray::XDI' )"),
        Ok(PerlValue::List(vec![
            PerlValue::Str("k".into()),
            PerlValue::Num(0.0)
        ]))
    );
}

/// The array fast paths (`plain_run`, `quick_quoted`, the skip check)
/// against the general literal parser plus `parse_number`, bit for bit,
/// on every array of every project in the shared data.
#[test]
fn array_fast_paths_match_the_general_parser() -> Result<(), String> {
    use std::io::Read;
    let dir = crate::bench::data_root(None)?.join("athena");
    let mut arrays = 0;
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let Ok(bytes) = std::fs::read(e.path()) else {
            continue;
        };
        let mut raw = Vec::new();
        if bytes.starts_with(&[0x1f, 0x8b]) {
            if flate2::read::MultiGzDecoder::new(&bytes[..])
                .read_to_end(&mut raw)
                .is_err()
            {
                continue;
            }
        } else {
            raw = bytes;
        }
        let text: String = match String::from_utf8(raw) {
            Ok(s) => s,
            Err(e) => e.into_bytes().iter().map(|&b| b as char).collect(),
        };
        for (at, _) in text.match_indices("\n@") {
            let stmt = &text[at + 2..];
            let Some(name) = ARRAY_STATEMENTS
                .iter()
                .find(|n| stmt.starts_with(&format!("{n} = (")))
            else {
                continue;
            };
            let start = at + 2 + name.len() + 3;
            let mut fast = Parser::new(&text, "t");
            fast.advance_to(start);
            let mut got = Vec::new();
            fast.f64_list(name, &mut got).unwrap(); // ok: test
            let mut skip = Parser::new(&text, "t");
            skip.advance_to(start);
            skip.skip_ws();
            if let Some(end) = skip.plain_list_end() {
                assert_eq!(end, fast.pos, "{name} at {start}");
            }
            let mut general = Parser::new(&text, "t");
            general.advance_to(start);
            let Ok(PerlValue::List(items)) = general.value(0) else {
                panic!("{name} at {start}: not a list"); // ok: test
            };
            assert_eq!(general.pos, fast.pos);
            let want: Vec<u64> = items
                .iter()
                .map(|v| match v {
                    PerlValue::Num(x) => x.to_bits(),
                    PerlValue::Str(s) => parse_number(s).map(f64::to_bits).unwrap(), // ok: test
                    other => panic!("{other:?}"),                                    // ok: test
                })
                .collect();
            let got: Vec<u64> = got.iter().map(|x| x.to_bits()).collect();
            assert_eq!(got, want, "{name} at {start}");
            arrays += 1;
        }
    }
    assert!(arrays > 100, "only {arrays} arrays checked");
    Ok(())
}

#[test]
fn code_is_refused() {
    let e = parse("system(\"rm -rf /\")").err();
    assert!(e.is_some_and(|e| e.message.contains("'system' is not plain data")));
    assert!(parse("`ls`").is_err());
    assert!(parse(&"[".repeat(1000)).is_err());
}
