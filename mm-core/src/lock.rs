//! Locks that know their holder: models of `spinlock_t` and `rw_semaphore`.
//!
//! Kernel page-table code takes and drops locks non-lexically
//! (`pte_offset_map_lock()` returns with the ptl held, `pte_unmap_unlock()`
//! drops it, `pmd_lock()` and `spin_lock_nested(ptl, ...)` nest only when
//! `ptl != pml`), and the bugs the model exists to find are mostly locking
//! bugs.  So these locks differ from `std`'s in two ways:
//!
//! * each records *which thread* holds it, so taking a lock the caller
//!   already holds returns [`LockError::SelfDeadlock`] instead of hanging the
//!   test (arm's `adjust_pte()` taking the same ptl twice when split ptlocks
//!   are off; an mmap_lock read-to-write "upgrade");
//! * they protect no data of their own: like the kernel's, they order the
//!   accesses a caller makes to *other* state while holding them, which is
//!   what a model of page tables (entries living in simulated memory) needs.
//!
//! Guards are `!Send`: a kernel spinlock or rwsem is released by the context
//! that took it, and the holder tracking relies on that.

use std::cell::RefCell;
use std::collections::HashMap;
use std::fmt;
use std::marker::PhantomData;

use crate::sync::{
    cpu_relax, current_thread_token, model_thread_local, AtomicU64, AtomicUsize, Ordering,
};

/// Misuse of a lock, detected instead of deadlocking.
///
/// Each variant names the lock (the `name` it was created with) so that a
/// failing scenario points straight at the offending ptl or mmap_lock.
#[derive(thiserror::Error, Debug, Clone, PartialEq, Eq)]
pub enum LockError {
    /// The calling thread already holds `lock` in a mode that makes this
    /// acquisition wait for itself: re-taking a spinlock, taking an rwsem
    /// for write (or read) while holding it for write, or "upgrading" a read
    /// hold to write.  In Linux each of these hangs forever (or lockdep
    /// splats); here the acquisition is refused.
    #[error("self-deadlock: this thread already holds {lock}")]
    SelfDeadlock {
        /// Name given to the lock at construction.
        lock: &'static str,
    },
    /// An assertion that the calling thread holds `lock` (the model of
    /// `lockdep_assert_held()` / `mmap_assert_locked()`) failed.
    #[error("{lock} is not held by this thread")]
    NotHeld {
        /// Name given to the lock at construction.
        lock: &'static str,
    },
    /// An assertion that the calling thread holds `lock` for write (the
    /// model of `mmap_assert_write_locked()`) failed.
    #[error("{lock} is not held for write by this thread")]
    NotWriteHeld {
        /// Name given to the lock at construction.
        lock: &'static str,
    },
}

/// Marker making guards `!Send` (and `!Sync`): a lock is released by the
/// thread that took it, which the holder tracking depends on.
type NotSend = PhantomData<*const ()>;

// ---------------------------------------------------------------------------
// SpinLock
// ---------------------------------------------------------------------------

/// A `spinlock_t`, such as a page table's split ptl or `mm->page_table_lock`.
///
/// The whole state is one atomic word holding the holder's thread token
/// (0 = unlocked), so the lock can say who holds it: that is what lets
/// [`SpinLock::lock`] refuse a self-deadlock and lets callers assert
/// "ptl held" the way powerpc's `assert_pte_locked()` does.  Waiters spin
/// with [`cpu_relax`], which keeps loom able to explore them.
///
/// Lock identity matters in page-table code (`ptl == pml` when split PTE
/// locks are off), so compare locks by address: [`SpinGuard::ptr_eq`] or
/// `std::ptr::eq`.
pub struct SpinLock {
    owner: AtomicU64,
    name: &'static str,
}

impl SpinLock {
    /// Create an unlocked spinlock, the model of `spin_lock_init()`.
    ///
    /// `name` is what [`LockError`]s and `Debug` output call this lock (the
    /// kernel's lockdep class name, e.g. `"ptl"` or `"page_table_lock"`).
    /// Not `const`: loom atomics cannot be built in a const context.
    pub fn new(name: &'static str) -> Self {
        SpinLock {
            owner: AtomicU64::new(0),
            name,
        }
    }

    /// The name given at construction.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// Acquire the lock, spinning while another thread holds it: `spin_lock()`.
    ///
    /// Acquisition is an Acquire CAS of the owner word from 0 to the caller's
    /// token, so everything the previous holder did before unlocking is
    /// visible to the new holder.
    ///
    /// # Errors
    /// [`LockError::SelfDeadlock`] if the calling thread already holds this
    /// lock; in Linux that spins forever.  The check is exact: only the
    /// holder ever writes its own token into the owner word, so a thread
    /// reading its own token there is reading its own, still-current store.
    pub fn lock(&self) -> Result<SpinGuard<'_>, LockError> {
        let me = current_thread_token();
        if self.owner.load(Ordering::Relaxed) == me {
            return Err(LockError::SelfDeadlock { lock: self.name });
        }
        loop {
            // Test-and-test-and-set: only attempt the CAS when it can work,
            // so waiters do not keep stealing the cache line from the holder.
            if self.owner.load(Ordering::Relaxed) == 0
                && self
                    .owner
                    .compare_exchange_weak(0, me, Ordering::Acquire, Ordering::Relaxed)
                    .is_ok()
            {
                return Ok(SpinGuard {
                    lock: self,
                    _not_send: PhantomData,
                });
            }
            cpu_relax();
        }
    }

    /// Acquire the lock as a nested lock of the same class:
    /// `spin_lock_nested(ptl, SINGLE_DEPTH_NESTING)`.
    ///
    /// Behaves exactly like [`SpinLock::lock`]; the separate name documents
    /// at the call site that the caller already holds another lock of this
    /// class (a ptl nested inside the pmd lock in `retract_page_tables()` and
    /// `collapse_pte_mapped_thp()`), which is only correct when the two are
    /// different locks.  If they are the same lock, the nesting annotation in
    /// Linux would not save the caller, and neither does this.
    ///
    /// # Errors
    /// [`LockError::SelfDeadlock`] if the calling thread already holds *this*
    /// lock (e.g. it forgot the `ptl != pml` check).
    pub fn lock_nested(&self) -> Result<SpinGuard<'_>, LockError> {
        self.lock()
    }

    /// Try once to acquire the lock: `spin_trylock()`.
    ///
    /// Returns `None` if any thread holds it, including the caller (a
    /// trylock of a held lock simply fails in Linux; it is not an error).
    pub fn try_lock(&self) -> Option<SpinGuard<'_>> {
        let me = current_thread_token();
        self.owner
            .compare_exchange(0, me, Ordering::Acquire, Ordering::Relaxed)
            .ok()
            .map(|_| SpinGuard {
                lock: self,
                _not_send: PhantomData,
            })
    }

    /// Whether some thread holds the lock: `spin_is_locked()`.
    ///
    /// A racy snapshot when the caller is not the holder; only useful for
    /// assertions and diagnostics, never for synchronisation.
    pub fn is_locked(&self) -> bool {
        self.owner.load(Ordering::Relaxed) != 0
    }

    /// Whether the calling thread holds the lock.  Exact (see
    /// [`SpinLock::lock`]), unlike [`SpinLock::is_locked`], which is what
    /// `assert_pte_locked()`-style checks must use: "locked by someone" does
    /// not prove that *this* walker is serialised against the retractor.
    pub fn held_by_current(&self) -> bool {
        self.owner.load(Ordering::Relaxed) == current_thread_token()
    }

    /// `lockdep_assert_held()`: succeed only if the calling thread holds the
    /// lock.
    ///
    /// # Errors
    /// [`LockError::NotHeld`] otherwise (whether free or held by another
    /// thread).
    pub fn assert_held(&self) -> Result<(), LockError> {
        if self.held_by_current() {
            Ok(())
        } else {
            Err(LockError::NotHeld { lock: self.name })
        }
    }
}

impl fmt::Debug for SpinLock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SpinLock")
            .field("name", &self.name)
            .field("locked", &self.is_locked())
            .finish()
    }
}

/// Proof that the calling thread holds a [`SpinLock`]; unlocks on drop.
///
/// Can be kept in a struct and dropped later, which is how the non-lexical
/// `pte_offset_map_lock()` ... `pte_unmap_unlock()` pairing is modelled.
#[must_use = "dropping the guard unlocks the spinlock immediately"]
pub struct SpinGuard<'a> {
    lock: &'a SpinLock,
    _not_send: NotSend,
}

impl<'a> SpinGuard<'a> {
    /// The lock this guard holds (e.g. to hand back as `*ptlp`).
    pub fn lock(&self) -> &'a SpinLock {
        self.lock
    }

    /// Whether this guard holds `other` — the `ptl == pml` / `ptl != pml`
    /// identity test, by address as in C.
    pub fn ptr_eq(&self, other: &SpinLock) -> bool {
        std::ptr::eq(self.lock, other)
    }

    /// Release the lock now: `spin_unlock()`.  Same as dropping the guard.
    pub fn unlock(self) {
        drop(self);
    }
}

impl Drop for SpinGuard<'_> {
    fn drop(&mut self) {
        // Release: publishes everything done under the lock to the next
        // holder's Acquire CAS.
        self.lock.owner.store(0, Ordering::Release);
    }
}

impl fmt::Debug for SpinGuard<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SpinGuard")
            .field("lock", &self.lock.name)
            .finish()
    }
}

// ---------------------------------------------------------------------------
// RwSem
// ---------------------------------------------------------------------------

/// Bit of [`RwSem::state`] set while a writer holds the semaphore; the
/// remaining bits count readers.
const WRITER: usize = 1 << (usize::BITS - 1);

/// Source of per-semaphore ids (for the per-thread read-hold table).  A plain
/// std atomic even under loom: it hands out distinct numbers and orders
/// nothing.
static NEXT_RWSEM_ID: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

model_thread_local! {
    /// How many read holds the calling thread has on each rwsem, keyed by
    /// the rwsem's id (never reused, unlike its address).
    static READ_HELD: RefCell<HashMap<u64, u32>> = RefCell::new(HashMap::new());
}

/// An `rw_semaphore`, such as `mm->mmap_lock` or `mapping->i_mmap_rwsem`.
///
/// State is a reader count plus a writer bit in one atomic word (readers and
/// writers exclude each other through that single CAS target), the writer's
/// thread token in a second word, and a count of waiting writers.  As in
/// Linux, a waiting writer holds off *new* readers so that writers are not
/// starved by a stream of overlapping readers.  A thread that already holds
/// the semaphore for read may take it for read again regardless: in Linux
/// such a recursive read can deadlock behind a queued writer, but the model
/// lets it through so that a scenario is not hung by the timing of an
/// unrelated writer; code that must not nest can check
/// [`RwSem::held_for_read_by_current`] first.
///
/// Each thread's read holds are counted in a thread-local table, which makes
/// the read-to-write upgrade detectable and lets code assert "retract runs
/// with no mmap_lock" via [`RwSem::held_for_read_by_current`].
pub struct RwSem {
    state: AtomicUsize,
    writers_waiting: AtomicUsize,
    owner: AtomicU64,
    id: u64,
    name: &'static str,
}

impl RwSem {
    /// Create an unlocked semaphore: `init_rwsem()`.
    ///
    /// `name` is what errors and `Debug` output call it (e.g. `"mmap_lock"`).
    pub fn new(name: &'static str) -> Self {
        RwSem {
            state: AtomicUsize::new(0),
            writers_waiting: AtomicUsize::new(0),
            owner: AtomicU64::new(0),
            id: NEXT_RWSEM_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
            name,
        }
    }

    /// The name given at construction.
    pub fn name(&self) -> &'static str {
        self.name
    }

    fn my_read_holds(&self) -> u32 {
        READ_HELD
            .try_with(|m| m.borrow().get(&self.id).copied().unwrap_or(0))
            .unwrap_or(0)
    }

    fn add_read_hold(&self) {
        let _ = READ_HELD.try_with(|m| *m.borrow_mut().entry(self.id).or_insert(0) += 1);
    }

    fn drop_read_hold(&self) {
        let _ = READ_HELD.try_with(|m| {
            let mut m = m.borrow_mut();
            if let Some(n) = m.get_mut(&self.id) {
                *n -= 1;
                if *n == 0 {
                    m.remove(&self.id);
                }
            }
        });
    }

    fn read_guard(&self) -> RwSemReadGuard<'_> {
        self.add_read_hold();
        RwSemReadGuard {
            sem: self,
            _not_send: PhantomData,
        }
    }

    fn write_guard(&self, me: u64) -> RwSemWriteGuard<'_> {
        // Relaxed: the owner word is only for self-deadlock detection and
        // diagnostics; the state CAS carries the synchronisation.
        self.owner.store(me, Ordering::Relaxed);
        RwSemWriteGuard {
            sem: self,
            _not_send: PhantomData,
        }
    }

    /// One attempt to add a reader; `recursive` readers ignore waiting
    /// writers.  Returns `Ok(())` on success, `Err(true)` if the CAS lost a
    /// race (retry at once), `Err(false)` if the semaphore is unavailable.
    fn read_attempt(&self, recursive: bool) -> Result<(), bool> {
        let s = self.state.load(Ordering::Relaxed);
        if s & WRITER != 0 || (!recursive && self.writers_waiting.load(Ordering::Relaxed) != 0) {
            return Err(false);
        }
        self.state
            .compare_exchange_weak(s, s + 1, Ordering::Acquire, Ordering::Relaxed)
            .map(|_| ())
            .map_err(|_| true)
    }

    /// Take the semaphore for read, waiting while a writer holds it or is
    /// waiting for it: `down_read()` / `mmap_read_lock()`.
    ///
    /// # Errors
    /// [`LockError::SelfDeadlock`] if the calling thread holds it for write
    /// (in Linux the reader would wait for itself).
    pub fn read(&self) -> Result<RwSemReadGuard<'_>, LockError> {
        if self.held_for_write_by_current() {
            return Err(LockError::SelfDeadlock { lock: self.name });
        }
        let recursive = self.my_read_holds() > 0;
        loop {
            match self.read_attempt(recursive) {
                Ok(()) => return Ok(self.read_guard()),
                Err(true) => continue,
                Err(false) => cpu_relax(),
            }
        }
    }

    /// Try once to take the semaphore for read: `down_read_trylock()` /
    /// `mmap_read_trylock()`.
    ///
    /// Returns `None` if a writer holds it (including the caller) or, unless
    /// the caller already holds it for read, if a writer is waiting — the
    /// same cases in which Linux's trylock fails.
    pub fn try_read(&self) -> Option<RwSemReadGuard<'_>> {
        if self.held_for_write_by_current() {
            return None;
        }
        let recursive = self.my_read_holds() > 0;
        loop {
            match self.read_attempt(recursive) {
                Ok(()) => return Some(self.read_guard()),
                Err(true) => continue,
                Err(false) => return None,
            }
        }
    }

    /// Take the semaphore for write, waiting for all readers and any writer
    /// to leave: `down_write()` / `mmap_write_lock()`.
    ///
    /// # Errors
    /// [`LockError::SelfDeadlock`] if the calling thread already holds it for
    /// write, or holds it for read (an upgrade: the writer would wait for its
    /// own read hold forever).
    pub fn write(&self) -> Result<RwSemWriteGuard<'_>, LockError> {
        let me = current_thread_token();
        if self.owner.load(Ordering::Relaxed) == me || self.my_read_holds() > 0 {
            return Err(LockError::SelfDeadlock { lock: self.name });
        }
        self.writers_waiting.fetch_add(1, Ordering::Relaxed);
        loop {
            if self.state.load(Ordering::Relaxed) == 0
                && self
                    .state
                    .compare_exchange_weak(0, WRITER, Ordering::Acquire, Ordering::Relaxed)
                    .is_ok()
            {
                break;
            }
            cpu_relax();
        }
        self.writers_waiting.fetch_sub(1, Ordering::Relaxed);
        Ok(self.write_guard(me))
    }

    /// Try once to take the semaphore for write: `down_write_trylock()` /
    /// `mmap_write_trylock()` (the call Hugh's series removed from
    /// khugepaged).
    ///
    /// Returns `None` if anyone holds it in any mode, the caller included.
    pub fn try_write(&self) -> Option<RwSemWriteGuard<'_>> {
        let me = current_thread_token();
        self.state
            .compare_exchange(0, WRITER, Ordering::Acquire, Ordering::Relaxed)
            .ok()
            .map(|_| self.write_guard(me))
    }

    /// Whether a writer holds the semaphore (`rwsem_is_locked()` restricted
    /// to writers).  A racy snapshot unless the caller is that writer.
    pub fn is_write_locked(&self) -> bool {
        self.state.load(Ordering::Relaxed) & WRITER != 0
    }

    /// Whether anyone holds the semaphore in any mode: `rwsem_is_locked()`.
    /// A racy snapshot.
    pub fn is_locked(&self) -> bool {
        self.state.load(Ordering::Relaxed) != 0
    }

    /// Number of read holds currently outstanding (recursive holds count
    /// separately).  A racy snapshot.
    pub fn readers(&self) -> usize {
        self.state.load(Ordering::Relaxed) & !WRITER
    }

    /// Whether the calling thread holds the semaphore for write.  Exact.
    pub fn held_for_write_by_current(&self) -> bool {
        self.owner.load(Ordering::Relaxed) == current_thread_token()
    }

    /// Whether the calling thread holds the semaphore for read.  Exact.
    pub fn held_for_read_by_current(&self) -> bool {
        self.my_read_holds() > 0
    }

    /// `mmap_assert_locked()`: succeed if the calling thread holds the
    /// semaphore in either mode.
    ///
    /// # Errors
    /// [`LockError::NotHeld`] otherwise.
    pub fn assert_locked(&self) -> Result<(), LockError> {
        if self.held_for_write_by_current() || self.held_for_read_by_current() {
            Ok(())
        } else {
            Err(LockError::NotHeld { lock: self.name })
        }
    }

    /// `mmap_assert_write_locked()`: succeed if the calling thread holds the
    /// semaphore for write.
    ///
    /// # Errors
    /// [`LockError::NotWriteHeld`] otherwise.
    pub fn assert_write_locked(&self) -> Result<(), LockError> {
        if self.held_for_write_by_current() {
            Ok(())
        } else {
            Err(LockError::NotWriteHeld { lock: self.name })
        }
    }
}

impl fmt::Debug for RwSem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RwSem")
            .field("name", &self.name)
            .field("write_locked", &self.is_write_locked())
            .field("readers", &self.readers())
            .finish()
    }
}

/// A read hold on an [`RwSem`]; released on drop (`up_read()`).
#[must_use = "dropping the guard releases the read lock immediately"]
pub struct RwSemReadGuard<'a> {
    sem: &'a RwSem,
    _not_send: NotSend,
}

impl<'a> RwSemReadGuard<'a> {
    /// The semaphore this guard holds.
    pub fn sem(&self) -> &'a RwSem {
        self.sem
    }

    /// Release now: `up_read()` / `mmap_read_unlock()`.  Same as dropping.
    pub fn unlock(self) {
        drop(self);
    }
}

impl Drop for RwSemReadGuard<'_> {
    fn drop(&mut self) {
        self.sem.drop_read_hold();
        // Release: the reader's accesses happen before a later writer's.
        self.sem.state.fetch_sub(1, Ordering::Release);
    }
}

impl fmt::Debug for RwSemReadGuard<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RwSemReadGuard")
            .field("sem", &self.sem.name)
            .finish()
    }
}

/// A write hold on an [`RwSem`]; released on drop (`up_write()`).
#[must_use = "dropping the guard releases the write lock immediately"]
pub struct RwSemWriteGuard<'a> {
    sem: &'a RwSem,
    _not_send: NotSend,
}

impl<'a> RwSemWriteGuard<'a> {
    /// The semaphore this guard holds.
    pub fn sem(&self) -> &'a RwSem {
        self.sem
    }

    /// Release now: `up_write()` / `mmap_write_unlock()`.  Same as dropping.
    pub fn unlock(self) {
        drop(self);
    }

    /// Atomically turn the write hold into a read hold, letting other
    /// readers in without letting a writer slip in between:
    /// `downgrade_write()` / `mmap_write_downgrade()`.
    pub fn downgrade(self) -> RwSemReadGuard<'a> {
        let sem = self.sem;
        std::mem::forget(self);
        sem.owner.store(0, Ordering::Relaxed);
        sem.add_read_hold();
        // WRITER -> one reader in a single store: no instant at which the
        // semaphore is free.  Release publishes the write-side section.
        sem.state.store(1, Ordering::Release);
        RwSemReadGuard {
            sem,
            _not_send: PhantomData,
        }
    }
}

impl Drop for RwSemWriteGuard<'_> {
    fn drop(&mut self) {
        // Clear the owner before releasing: once the state word is free a
        // new writer may store its own token, which must not be overwritten.
        self.sem.owner.store(0, Ordering::Relaxed);
        // While WRITER is set no reader can have been added, so the word is
        // exactly WRITER: a plain Release store frees it.
        self.sem.state.store(0, Ordering::Release);
    }
}

impl fmt::Debug for RwSemWriteGuard<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RwSemWriteGuard")
            .field("sem", &self.sem.name)
            .finish()
    }
}
