//! A small, printable lifecycle scenario: what `pte_free_defer()` does on
//! one configuration and variant, as an ordered event log.
//!
//! Three pte tables are faulted in; a lockless reader maps the first; the
//! first two are retracted and deferred as `retract_page_tables()` does; a
//! grace period is attempted while the reader is still inside (it cannot
//! end), then after it leaves; finally the mm exits.  Fragmenting arches
//! show which fragment of which page each table is, and when the page
//! itself goes back.

use std::sync::Arc;

use crate::arch::Arch;
use crate::event::Event;
use crate::lifecycle::detach_table;
use crate::machine::{Machine, Mode};
use crate::map;
use crate::mm::Mm;
use crate::MmError;

/// The outcome: the events in order and what the model reported.
#[derive(Clone, Debug)]
pub struct ScenarioLog {
    /// Configuration name.
    pub config: &'static str,
    /// Variant name.
    pub variant: &'static str,
    /// Events, in order.
    pub events: Vec<Event>,
    /// Reports (bugs the model caught), as text.
    pub reports: Vec<String>,
}

/// Run the scenario.
///
/// # Errors
/// [`MmError`] when a step fails in a way the scenario does not expect.
pub fn pte_free_defer_scenario<A: Arch + Clone>(a: &A) -> Result<ScenarioLog, MmError> {
    let g = a.geometry();
    let m = Machine::new(g, 512 * g.page_size(), Mode::Deterministic)?;
    let mm = Mm::new(Arc::new(a.clone()), m.clone())?;
    let ev = m.events();
    ev.enable(true);
    let note = |s: &str| ev.push(|| Event::Note(s.to_string()));
    let base = (g.task_size() / 4) & !(g.pmd_size() - 1);
    let prot = a.vm_get_page_prot(3);
    note("fault in three pte tables");
    let vas: Vec<u64> = (0..3).map(|i| base + i * g.pmd_size()).collect();
    for (i, va) in vas.iter().enumerate() {
        map::map_page(&mm, *va, 0x100 + i as u64, prot)?;
    }
    let pmds = vas
        .iter()
        .map(|va| mm.find_pmd(*va)?.ok_or(MmError::Config("no pmd".into())))
        .collect::<Result<Vec<_>, _>>()?;
    note("a lockless reader maps the first table (pte_offset_map: rcu_read_lock)");
    let reader = mm
        .pte_offset_map(pmds[0], vas[0])?
        .ok_or(MmError::Config("first table not mapped".into()))?;
    note("retract_page_tables() clears two pmds and defers their tables");
    for pmdp in &pmds[..2] {
        let t = detach_table(&mm, *pmdp)?;
        a.pte_free_defer(&mm, t)?;
    }
    note("try to end a grace period while the reader is inside");
    match m.rcu.end_grace_period() {
        Ok(n) => ev.push(|| Event::GracePeriod {
            what: format!("ended, {n} callback(s) ran (the reader did not hold it!)"),
        }),
        Err(e) => ev.push(|| Event::GracePeriod {
            what: format!("cannot end: {e}"),
        }),
    }
    let still = reader.get().map(|p| format!("{:#x}", p.0));
    note(&format!(
        "the reader reads its detached table: {}",
        match &still {
            Ok(v) => format!("pte {v}, still valid"),
            Err(e) => format!("FAILED: {e}"),
        }
    ));
    note("the reader unmaps (pte_unmap: rcu_read_unlock)");
    drop(reader);
    match m.rcu.end_grace_period() {
        Ok(n) => ev.push(|| Event::GracePeriod {
            what: format!("ended, {n} callback(s) ran"),
        }),
        Err(e) => ev.push(|| Event::GracePeriod {
            what: format!("cannot end: {e}"),
        }),
    }
    m.rcu.rcu_barrier()?;
    note("the mm exits (mmput: free_pgtables, arch_exit_mmap, mmdrop)");
    mm.mmput()?;
    m.rcu.rcu_barrier()?;
    m.wq.flush_work();
    if mm.pgtables_bytes() != 0 {
        note(&format!("pgtables_bytes left: {}", mm.pgtables_bytes()));
    }
    Ok(ScenarioLog {
        config: g.name,
        variant: a.variant(),
        events: ev.all(),
        reports: m.reports().all().iter().map(|r| r.to_string()).collect(),
    })
}
