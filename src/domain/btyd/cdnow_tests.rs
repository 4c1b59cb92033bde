//! The models against the published CDNOW results: the 1/10th sample of CDNOW's 1997 cohort
//! (2,357 customers, 6,919 orders) summarised over the 39-week calibration period ending
//! 1997-09-30, as in Fader, Hardie & Lee (2005) and Fader & Hardie (2013).

use super::bgnbd;
use super::gamma_gamma;
use super::summary::{Order, Summary, summarize};
use chrono::{NaiveDate, TimeZone, Utc};
use std::collections::BTreeMap;
use std::time::Instant;

const SAMPLE: &str = include_str!("../../../tests/fixtures/CDNOW_sample.txt");

/// Columns: master id, sample id, date (yyyymmdd), CDs bought, dollar amount.
fn orders_by_customer() -> BTreeMap<u32, Vec<Order>> {
    let mut customers: BTreeMap<u32, Vec<Order>> = BTreeMap::new();
    for line in SAMPLE.lines().filter(|l| !l.trim().is_empty()) {
        let fields: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(fields.len(), 5, "{line}");
        let id: u32 = fields[1].parse().expect("sample id");
        let day = NaiveDate::parse_from_str(fields[2], "%Y%m%d").expect("date");
        let dollars: f64 = fields[4].parse().expect("amount");
        let at = Utc.from_utc_datetime(&day.and_hms_opt(0, 0, 0).expect("midnight"));
        customers.entry(id).or_default().push(Order { at, amount_cents: (dollars * 100.0).round() as i64 });
    }
    customers
}

fn calibration() -> Vec<Summary> {
    let end = NaiveDate::from_ymd_opt(1997, 9, 30).expect("date");
    orders_by_customer().values().filter_map(|orders| summarize(orders, end)).collect()
}

fn within(got: f64, want: f64, rel: f64) -> bool {
    (got / want - 1.0).abs() <= rel
}

#[test]
fn sample_has_the_published_shape() {
    let customers = orders_by_customer();
    assert_eq!(customers.len(), 2357);
    assert_eq!(customers.values().map(Vec::len).sum::<usize>(), 6919);
    let summaries = calibration();
    assert_eq!(summaries.len(), 2357, "every customer's first purchase is in Q1 1997");
    // FHL (2005): 1,411 of the 2,357 made no repeat purchase in the 39 weeks
    assert_eq!(summaries.iter().filter(|s| s.x == 0.0).count(), 1411);
    assert_eq!(summaries.iter().map(|s| s.x).sum::<f64>(), 2457.0);
    // customer 1 (master id 4): the paper's worked example, x = 2, t_x = 30.43, T = 38.86 weeks
    let first = summaries[0];
    assert_eq!((first.x, first.t_x, first.t), (2.0, 213.0, 272.0));
    assert_eq!(first.monetary.map(|m| (m * 100.0).round()), Some(2235.0)); // (29.73 + 14.96) / 2
}

#[test]
fn bgnbd_fit_reproduces_fader_hardie_lee() {
    let summaries = calibration();
    let started = Instant::now();
    let fit = bgnbd::fit(&summaries).expect("fit");
    let elapsed = started.elapsed();
    let p = fit.params;
    println!(
        "CDNOW BG/NBD fit in {elapsed:?} ({} iterations, converged {}): r = {:.4}, alpha = {:.4} days \
         = {:.4} weeks, a = {:.4}, b = {:.4}, LL = {:.4}",
        fit.iterations,
        fit.converged,
        p.r,
        p.alpha,
        p.alpha / 7.0,
        p.a,
        p.b,
        fit.log_likelihood
    );
    assert!(fit.converged);
    assert!((fit.log_likelihood - bgnbd::total_log_likelihood(&p, &summaries)).abs() < 1e-6);
    assert!(within(p.r, 0.243, 0.01), "r = {}", p.r);
    assert!(within(p.alpha / 7.0, 4.414, 0.01), "alpha = {} weeks", p.alpha / 7.0);
    assert!(within(p.a, 0.793, 0.01), "a = {}", p.a);
    assert!(within(p.b, 2.426, 0.01), "b = {}", p.b);
    // the paper's LL (−9582.4) is in weeks; in days every repeat purchase adds −ln 7
    let weeks_ll = fit.log_likelihood + 2457.0 * 7f64.ln();
    assert!((weeks_ll - -9582.4).abs() < 0.5, "LL in weeks = {weeks_ll}");
}

#[test]
fn gamma_gamma_fit_reproduces_fader_hardie() {
    let summaries = calibration();
    let repeaters = summaries.iter().filter(|s| s.x > 0.0).count();
    assert_eq!(repeaters, 946);
    let started = Instant::now();
    let fit = gamma_gamma::fit(&summaries).expect("fit");
    let elapsed = started.elapsed();
    let p = fit.params;
    println!(
        "CDNOW Gamma-Gamma fit in {elapsed:?} ({} iterations, converged {}): p = {:.4}, q = {:.4}, \
         v = {:.4}, LL = {:.4}",
        fit.iterations, fit.converged, p.p, p.q, p.v, fit.log_likelihood
    );
    assert!(fit.converged);
    assert!((fit.log_likelihood - gamma_gamma::total_log_likelihood(&p, &summaries)).abs() < 1e-6);
    assert!(within(p.p, 6.25, 0.01), "p = {}", p.p);
    assert!(within(p.q, 3.74, 0.01), "q = {}", p.q);
    assert!(within(p.v, 15.44, 0.01), "v = {}", p.v);
}
