//! arm (32-bit) entry encodings as of Linux v6.6: bit constants and the
//! helper bodies, on raw values.
//!
//! Two formats, one module each: [`classic`] (the 2-level short-descriptor
//! tables, `CONFIG_ARM_LPAE=n`) and [`lpae`] (the 3-level long-descriptor
//! tables, `CONFIG_ARM_LPAE=y`).  Headers are under `arch/arm/include/asm/`
//! and code under `arch/arm/mm/` unless a path says otherwise.  The helpers
//! transcribe the *behaviour* of the v6.6 definitions named in their doc
//! comments; [`crate::Arm`]'s `Arch` impl wraps them in mm-core's newtypes.
//!
//! # Boot-time and Kconfig assumptions
//!
//! * ARMv7 SMP (`multi_v7_defconfig`-style, a Cortex-A15 as Unicorn
//!   emulates): `build_mem_type_table()` (mm/mmu.c) picks the write-alloc
//!   cache policy, so `user_pgprot` is `L_PTE_MT_WRITEALLOC`, plus
//!   `L_PTE_SHARED` because `is_smp()`; every `protection_map[]` entry gets
//!   `user_pgprot` ORed in ([`classic::USER_PGPROT`], [`lpae::USER_PGPROT`]).
//! * Classic tables: ID_MMFR0.VMSA >= 4 (Cortex-A15), so `user_pmd_table`
//!   has `PMD_PXNTABLE` (mm/mmu.c), and `CONFIG_IO_36` is off.
//! * No `ARCH_SUPPORTS_NUMA_BALANCING`, no `HAVE_ARCH_SOFT_DIRTY`, no
//!   `HAVE_ARCH_USERFAULTFD_WP`, no `ARCH_HAS_PTE_DEVMAP`, no
//!   `ARCH_ENABLE_THP_MIGRATION` on arm (arch/arm/Kconfig): the generic
//!   fallbacks of `include/linux/pgtable.h` apply (`pte_protnone()` is 0,
//!   `pte_mksoft_dirty()` the identity, ...).
//! * `ARCH_HAS_PTE_SPECIAL` and `HAVE_ARCH_TRANSPARENT_HUGEPAGE` are
//!   selected only `if ARM_LPAE` (arch/arm/Kconfig).
//! * Every address the model maps is a user address (below `TASK_SIZE`), so
//!   `set_ptes()` (mm/mmu.c) passes `ext = PTE_EXT_NG` exactly when
//!   `pte_valid_user()`; kernel mappings (ext 0) are not modelled, but
//!   [`classic::cpu_v7_set_pte_ext`] takes `ext` as a parameter.

/// The classic 2-level format (`pgtable-2level.h`,
/// `pgtable-2level-hwdef.h`, `proc-v7-2level.S`).
///
/// A Linux pte is a 32-bit word (`pteval_t` is `u32`); its hardware twin
/// lives [`PTE_HWTABLE_OFF`](classic::PTE_HWTABLE_OFF) bytes further on in
/// the same page.  A Linux pgd/pmd entry is a pair of 32-bit first-level
/// descriptors; mm-core hands the pair to the helpers as one value, `w0 |
/// w1 << 32` (little-endian memory), and the pmd helpers look at `w0` only,
/// as Linux's `pmd_val()` of a `pmd_t *` pointing at the pair does.
pub mod classic {
    // ---- Linux pte bits (pgtable-2level.h) ------------------------------

    /// `L_PTE_VALID` (pgtable-2level.h): bit 0, same as `L_PTE_PRESENT`.
    pub const L_PTE_VALID: u64 = 1 << 0;
    /// `L_PTE_PRESENT` (pgtable-2level.h): bit 0.
    pub const L_PTE_PRESENT: u64 = 1 << 0;
    /// `L_PTE_YOUNG` (pgtable-2level.h): bit 1, the emulated access flag.
    pub const L_PTE_YOUNG: u64 = 1 << 1;
    /// `L_PTE_DIRTY` (pgtable-2level.h): bit 6, the emulated dirty bit.
    pub const L_PTE_DIRTY: u64 = 1 << 6;
    /// `L_PTE_RDONLY` (pgtable-2level.h): bit 7.
    pub const L_PTE_RDONLY: u64 = 1 << 7;
    /// `L_PTE_USER` (pgtable-2level.h): bit 8.
    pub const L_PTE_USER: u64 = 1 << 8;
    /// `L_PTE_XN` (pgtable-2level.h): bit 9.
    pub const L_PTE_XN: u64 = 1 << 9;
    /// `L_PTE_SHARED` (pgtable-2level.h): bit 10 ("shared(v6),
    /// coherent(xsc3)").
    pub const L_PTE_SHARED: u64 = 1 << 10;
    /// `L_PTE_NONE` (pgtable-2level.h): bit 11, PROT_NONE.
    pub const L_PTE_NONE: u64 = 1 << 11;
    /// `L_PTE_SWP_EXCLUSIVE` = `L_PTE_RDONLY` (pgtable-2level.h, v6.3+):
    /// PG_anon_exclusive of a swap pte.
    pub const L_PTE_SWP_EXCLUSIVE: u64 = L_PTE_RDONLY;

    /// `L_PTE_MT_UNCACHED` (pgtable-2level.h): 0000.
    pub const L_PTE_MT_UNCACHED: u64 = 0x00 << 2;
    /// `L_PTE_MT_BUFFERABLE` (pgtable-2level.h): 0001.
    pub const L_PTE_MT_BUFFERABLE: u64 = 0x01 << 2;
    /// `L_PTE_MT_WRITETHROUGH` (pgtable-2level.h): 0010.
    pub const L_PTE_MT_WRITETHROUGH: u64 = 0x02 << 2;
    /// `L_PTE_MT_WRITEBACK` (pgtable-2level.h): 0011.
    pub const L_PTE_MT_WRITEBACK: u64 = 0x03 << 2;
    /// `L_PTE_MT_MINICACHE` (pgtable-2level.h): 0110 (sa1100, xscale).
    pub const L_PTE_MT_MINICACHE: u64 = 0x06 << 2;
    /// `L_PTE_MT_WRITEALLOC` (pgtable-2level.h): 0111.
    pub const L_PTE_MT_WRITEALLOC: u64 = 0x07 << 2;
    /// `L_PTE_MT_DEV_SHARED` (pgtable-2level.h): 0100.
    pub const L_PTE_MT_DEV_SHARED: u64 = 0x04 << 2;
    /// `L_PTE_MT_DEV_NONSHARED` (pgtable-2level.h): 1100.
    pub const L_PTE_MT_DEV_NONSHARED: u64 = 0x0c << 2;
    /// `L_PTE_MT_DEV_WC` (pgtable-2level.h): 1001.
    pub const L_PTE_MT_DEV_WC: u64 = 0x09 << 2;
    /// `L_PTE_MT_DEV_CACHED` (pgtable-2level.h): 1011.
    pub const L_PTE_MT_DEV_CACHED: u64 = 0x0b << 2;
    /// `L_PTE_MT_VECTORS` (pgtable-2level.h): 1111.
    pub const L_PTE_MT_VECTORS: u64 = 0x0f << 2;
    /// `L_PTE_MT_MASK` (pgtable-2level.h): bits 2-5.
    pub const L_PTE_MT_MASK: u64 = 0x0f << 2;

    // ---- hardware second-level descriptor (pgtable-2level-hwdef.h) -------

    /// `PTE_TYPE_MASK` (pgtable-2level-hwdef.h).
    pub const PTE_TYPE_MASK: u64 = 3;
    /// `PTE_TYPE_SMALL` (pgtable-2level-hwdef.h): a 4K small page.
    pub const PTE_TYPE_SMALL: u64 = 2;
    /// `PTE_EXT_XN` (pgtable-2level-hwdef.h): bit 0, execute never.
    pub const PTE_EXT_XN: u64 = 1 << 0;
    /// `PTE_BUFFERABLE` (pgtable-2level-hwdef.h): bit 2, B.
    pub const PTE_BUFFERABLE: u64 = 1 << 2;
    /// `PTE_CACHEABLE` (pgtable-2level-hwdef.h): bit 3, C.
    pub const PTE_CACHEABLE: u64 = 1 << 3;
    /// `PTE_EXT_AP0` (pgtable-2level-hwdef.h): bit 4.
    pub const PTE_EXT_AP0: u64 = 1 << 4;
    /// `PTE_EXT_AP1` (pgtable-2level-hwdef.h): bit 5.
    pub const PTE_EXT_AP1: u64 = 2 << 4;
    /// `PTE_EXT_TEX(1)` (pgtable-2level-hwdef.h: `PTE_EXT_TEX(x) = x << 6`).
    pub const PTE_EXT_TEX1: u64 = 1 << 6;
    /// `PTE_EXT_TEX(7)`, the whole TEX field (bits 6-8).
    pub const PTE_EXT_TEX_MASK: u64 = 7 << 6;
    /// `PTE_EXT_APX` (pgtable-2level-hwdef.h): bit 9, AP\[2\]: read-only.
    pub const PTE_EXT_APX: u64 = 1 << 9;
    /// `PTE_EXT_SHARED` (pgtable-2level-hwdef.h): bit 10, S.
    pub const PTE_EXT_SHARED: u64 = 1 << 10;
    /// `PTE_EXT_NG` (pgtable-2level-hwdef.h): bit 11, not global.
    pub const PTE_EXT_NG: u64 = 1 << 11;

    // ---- first-level descriptor (pgtable-2level-hwdef.h, domain.h) -------

    /// `PMD_TYPE_MASK` (pgtable-2level-hwdef.h).
    pub const PMD_TYPE_MASK: u64 = 3;
    /// `PMD_TYPE_TABLE` (pgtable-2level-hwdef.h): a coarse page table.
    pub const PMD_TYPE_TABLE: u64 = 1;
    /// `PMD_TYPE_SECT` (pgtable-2level-hwdef.h): a 1M section.
    pub const PMD_TYPE_SECT: u64 = 2;
    /// `PMD_PXNTABLE` (pgtable-2level-hwdef.h): bit 2, v7 table form.
    pub const PMD_PXNTABLE: u64 = 1 << 2;
    /// `PMD_BIT4` (pgtable-2level-hwdef.h).
    pub const PMD_BIT4: u64 = 1 << 4;
    /// `PMD_DOMAIN(x)` (pgtable-2level-hwdef.h): bits 5-8.
    pub const PMD_DOMAIN_MASK: u64 = 0xf << 5;
    /// `DOMAIN_USER` (domain.h).
    pub const DOMAIN_USER: u64 = 1;
    /// `_PAGE_USER_TABLE` (pgalloc.h): `PMD_TYPE_TABLE | PMD_BIT4 |
    /// PMD_DOMAIN(DOMAIN_USER)` = 0x31.
    pub const _PAGE_USER_TABLE: u64 = PMD_TYPE_TABLE | PMD_BIT4 | (DOMAIN_USER << 5);
    /// `user_pmd_table` (mm/mmu.c) on ARMv7 with ID_MMFR0.VMSA >= 4:
    /// `_PAGE_USER_TABLE | PMD_PXNTABLE` = 0x35, what `pmd_populate()` uses
    /// (pgalloc.h: `__LINUX_ARM_ARCH__ >= 6 && !CONFIG_ARM_LPAE`).
    pub const USER_PMD_TABLE: u64 = _PAGE_USER_TABLE | PMD_PXNTABLE;

    // ---- geometry and masks ---------------------------------------------

    /// `PAGE_SHIFT`.
    pub const PAGE_SHIFT: u32 = 12;
    /// `PAGE_MASK` as a 32-bit value.
    pub const PAGE_MASK: u64 = 0xffff_f000;
    /// `PHYS_MASK` (pgtable.h: `~0UL` on 32-bit without LPAE): 32 bits.
    pub const PHYS_MASK: u64 = 0xffff_ffff;
    /// `PTE_HWTABLE_OFF` (pgtable-2level.h): `PTE_HWTABLE_PTRS *
    /// sizeof(pte_t)` = 2048, where the hardware tables start in a pte page.
    pub const PTE_HWTABLE_OFF: u64 = 512 * 4;
    /// `256 * sizeof(pte_t)`: the second hardware table of a pair
    /// (`__pmd_populate()`, pgalloc.h).
    pub const HW_PT_BYTES: u64 = 256 * 4;

    // ---- protections (pgtable.h, mm/mmu.c) ------------------------------

    /// `_L_PTE_DEFAULT` (pgtable.h): `L_PTE_PRESENT | L_PTE_YOUNG`.
    pub const _L_PTE_DEFAULT: u64 = L_PTE_PRESENT | L_PTE_YOUNG;
    /// `user_pgprot` after `build_mem_type_table()` (mm/mmu.c) on ARMv7 SMP:
    /// the write-alloc policy's `L_PTE_MT_WRITEALLOC` plus `L_PTE_SHARED`.
    pub const USER_PGPROT: u64 = L_PTE_MT_WRITEALLOC | L_PTE_SHARED;
    /// `__PAGE_NONE` (pgtable.h).
    pub const __PAGE_NONE: u64 = _L_PTE_DEFAULT | L_PTE_RDONLY | L_PTE_XN | L_PTE_NONE;
    /// `__PAGE_SHARED` (pgtable.h).
    pub const __PAGE_SHARED: u64 = _L_PTE_DEFAULT | L_PTE_USER | L_PTE_XN;
    /// `__PAGE_SHARED_EXEC` (pgtable.h).
    pub const __PAGE_SHARED_EXEC: u64 = _L_PTE_DEFAULT | L_PTE_USER;
    /// `__PAGE_COPY` (pgtable.h).
    pub const __PAGE_COPY: u64 = _L_PTE_DEFAULT | L_PTE_USER | L_PTE_RDONLY | L_PTE_XN;
    /// `__PAGE_COPY_EXEC` (pgtable.h).
    pub const __PAGE_COPY_EXEC: u64 = _L_PTE_DEFAULT | L_PTE_USER | L_PTE_RDONLY;
    /// `__PAGE_READONLY` (pgtable.h).
    pub const __PAGE_READONLY: u64 = _L_PTE_DEFAULT | L_PTE_USER | L_PTE_RDONLY | L_PTE_XN;
    /// `__PAGE_READONLY_EXEC` (pgtable.h).
    pub const __PAGE_READONLY_EXEC: u64 = _L_PTE_DEFAULT | L_PTE_USER | L_PTE_RDONLY;

    // ---- swap (pgtable.h, v6.3+) ----------------------------------------

    /// `__SWP_TYPE_SHIFT` (pgtable.h).
    pub const __SWP_TYPE_SHIFT: u32 = 2;
    /// `__SWP_TYPE_BITS` (pgtable.h).
    pub const __SWP_TYPE_BITS: u32 = 5;
    /// `__SWP_TYPE_MASK` (pgtable.h).
    pub const __SWP_TYPE_MASK: u64 = (1 << __SWP_TYPE_BITS) - 1;
    /// `__SWP_OFFSET_SHIFT` (pgtable.h): type bits + type shift + 1 (the
    /// exclusive bit) = 8.
    pub const __SWP_OFFSET_SHIFT: u32 = __SWP_TYPE_BITS + __SWP_TYPE_SHIFT + 1;

    /// `protection_map[flags]` (mm/mmu.c `DECLARE_VM_GET_PAGE_PROT`), with
    /// `user_pgprot` ORed in by `build_mem_type_table()`.
    pub const fn vm_get_page_prot(flags: u8) -> u64 {
        let base = match flags & 0xf {
            0x0 | 0x8 => __PAGE_NONE,
            0x1 | 0x9 => __PAGE_READONLY,
            0x2 | 0x3 => __PAGE_COPY,
            0x4 | 0x5 | 0xc | 0xd => __PAGE_READONLY_EXEC,
            0x6 | 0x7 => __PAGE_COPY_EXEC,
            0xa | 0xb => __PAGE_SHARED,
            _ => __PAGE_SHARED_EXEC,
        };
        base | USER_PGPROT
    }

    /// `pte_valid_user()` (pgtable.h): valid, user and young.
    pub const fn pte_valid_user(pte: u64) -> bool {
        pte & L_PTE_VALID != 0 && pte & L_PTE_USER != 0 && pte & L_PTE_YOUNG != 0
    }

    /// The `ext` that `set_ptes()` (mm/mmu.c, v6.6) passes for a pte at a
    /// user address: `PTE_EXT_NG` when `pte_valid_user()`, else 0.
    pub const fn user_ext(pte: u64) -> u64 {
        if pte_valid_user(pte) {
            PTE_EXT_NG
        } else {
            0
        }
    }

    /// The hardware pte `cpu_v7_set_pte_ext(ptep, pte, ext)`
    /// (mm/proc-v7-2level.S) stores 2048 bytes after the Linux pte:
    ///
    /// 1. `bic r3, r1, #0x3f0; bic r3, r3, #PTE_TYPE_MASK` — drop Linux bits
    ///    4-9 and the type bits (MT\[1:0\] stays as B and C, SHARED as S);
    /// 2. `orr r3, r3, r2; orr r3, r3, #PTE_EXT_AP0 | 2` — ext, AP0, small
    ///    page;
    /// 3. `tst r1, #1 << 4; orrne r3, r3, #PTE_EXT_TEX(1)` — MT\[2\] as TEX\[0\];
    /// 4. `eor r1, r1, #L_PTE_DIRTY; tst r1, #L_PTE_RDONLY | L_PTE_DIRTY;
    ///    orrne r3, r3, #PTE_EXT_APX` — read-only unless writable and dirty;
    /// 5. USER sets AP1, XN sets `PTE_EXT_XN`;
    /// 6. `tst r1, #L_PTE_YOUNG; tstne r1, #L_PTE_VALID; eorne r1, r1,
    ///    #L_PTE_NONE; tstne r1, #L_PTE_NONE; moveq r3, #0` — a fault entry
    ///    unless young, valid and not PROT_NONE.
    pub const fn cpu_v7_set_pte_ext(pte: u64, ext: u64) -> u64 {
        let pte = pte & 0xffff_ffff;
        let mut hw = pte & !0x3f0 & !PTE_TYPE_MASK;
        hw |= ext & 0xffff_ffff;
        hw |= PTE_EXT_AP0 | PTE_TYPE_SMALL;
        if pte & (1 << 4) != 0 {
            hw |= PTE_EXT_TEX1;
        }
        if (pte ^ L_PTE_DIRTY) & (L_PTE_RDONLY | L_PTE_DIRTY) != 0 {
            hw |= PTE_EXT_APX;
        }
        if pte & L_PTE_USER != 0 {
            hw |= PTE_EXT_AP1;
        }
        if pte & L_PTE_XN != 0 {
            hw |= PTE_EXT_XN;
        }
        if pte & L_PTE_YOUNG == 0 || pte & L_PTE_VALID == 0 || pte & L_PTE_NONE != 0 {
            hw = 0;
        }
        hw
    }

    /// `__pmd_populate(pmdp, pte, prot)` (pgalloc.h) as one value: `pmdp[0]
    /// = (pte + PTE_HWTABLE_OFF) | prot`, `pmdp[1] = pmdp[0] + 256 *
    /// sizeof(pte_t)`, returned as `w0 | w1 << 32`.
    pub const fn pmd_populate(table_pa: u64) -> u64 {
        let w0 = ((table_pa + PTE_HWTABLE_OFF) | USER_PMD_TABLE) & 0xffff_ffff;
        let w1 = (w0 + HW_PT_BYTES) & 0xffff_ffff;
        w0 | w1 << 32
    }

    /// The first word of a pgd pair: what `pmd_val()` sees.
    pub const fn w0(pmd: u64) -> u64 {
        pmd & 0xffff_ffff
    }

    /// `pmd_page_vaddr()` (pgtable.h: `pmd_val(pmd) & PHYS_MASK &
    /// (s32)PAGE_MASK`) as a physical address: the start of the pte page,
    /// i.e. Linux pt 0.
    pub const fn pmd_table_pa(pmd: u64) -> u64 {
        w0(pmd) & PHYS_MASK & PAGE_MASK
    }
}

/// The LPAE 3-level format (`pgtable-3level.h`, `pgtable-3level-hwdef.h`,
/// `proc-v7-3level.S`).  The hardware walks the Linux tables themselves;
/// `cpu_v7_set_pte_ext()` and `set_pmd_at()` adjust the value they store
/// ([`set_pte_ext`](lpae::set_pte_ext), [`set_pmd_at`](lpae::set_pmd_at)).
pub mod lpae {
    // ---- Linux pte bits (pgtable-3level.h) ------------------------------

    /// `L_PTE_VALID` (pgtable-3level.h): bit 0.
    pub const L_PTE_VALID: u64 = 1 << 0;
    /// `L_PTE_PRESENT` (pgtable-3level.h): bits 0-1, so a PROT_NONE pte
    /// whose valid bit `set_pte_ext` cleared stays present.
    pub const L_PTE_PRESENT: u64 = 3;
    /// `L_PTE_USER` (pgtable-3level.h): bit 6, AP\[1\].
    pub const L_PTE_USER: u64 = 1 << 6;
    /// `L_PTE_SHARED` (pgtable-3level.h): bits 8-9, SH = inner shareable.
    pub const L_PTE_SHARED: u64 = 3 << 8;
    /// `L_PTE_YOUNG` (pgtable-3level.h): bit 10, the hardware AF.
    pub const L_PTE_YOUNG: u64 = 1 << 10;
    /// `L_PTE_XN` (pgtable-3level.h): bit 54.
    pub const L_PTE_XN: u64 = 1 << 54;
    /// `L_PTE_DIRTY` (pgtable-3level.h): bit 55 (software).
    pub const L_PTE_DIRTY: u64 = 1 << 55;
    /// `L_PTE_SPECIAL` (pgtable-3level.h): bit 56 (software).
    pub const L_PTE_SPECIAL: u64 = 1 << 56;
    /// `L_PTE_NONE` (pgtable-3level.h): bit 57 (software), PROT_NONE.
    pub const L_PTE_NONE: u64 = 1 << 57;
    /// `L_PTE_RDONLY` (pgtable-3level.h): bit 58 (software).
    pub const L_PTE_RDONLY: u64 = 1 << 58;
    /// `L_PTE_SWP_EXCLUSIVE` (pgtable-3level.h): bit 7 of a swap pte (AP\[2\]
    /// in a live one).
    pub const L_PTE_SWP_EXCLUSIVE: u64 = 1 << 7;

    /// `L_PTE_MT_UNCACHED` (pgtable-3level.h): AttrIndx 0, strongly ordered.
    pub const L_PTE_MT_UNCACHED: u64 = 0 << 2;
    /// `L_PTE_MT_BUFFERABLE` (pgtable-3level.h): AttrIndx 1.
    pub const L_PTE_MT_BUFFERABLE: u64 = 1 << 2;
    /// `L_PTE_MT_WRITETHROUGH` (pgtable-3level.h): AttrIndx 2.
    pub const L_PTE_MT_WRITETHROUGH: u64 = 2 << 2;
    /// `L_PTE_MT_WRITEBACK` (pgtable-3level.h): AttrIndx 3.
    pub const L_PTE_MT_WRITEBACK: u64 = 3 << 2;
    /// `L_PTE_MT_DEV_SHARED` (pgtable-3level.h): AttrIndx 4, device.
    pub const L_PTE_MT_DEV_SHARED: u64 = 4 << 2;
    /// `L_PTE_MT_WRITEALLOC` (pgtable-3level.h): AttrIndx 7.
    pub const L_PTE_MT_WRITEALLOC: u64 = 7 << 2;
    /// `L_PTE_MT_MASK` (pgtable-3level.h): AttrIndx, bits 2-4.
    pub const L_PTE_MT_MASK: u64 = 7 << 2;

    // ---- hardware bits (pgtable-3level-hwdef.h) -------------------------

    /// `PMD_TYPE_MASK` (pgtable-3level-hwdef.h).
    pub const PMD_TYPE_MASK: u64 = 3;
    /// `PMD_TYPE_TABLE` (pgtable-3level-hwdef.h).
    pub const PMD_TYPE_TABLE: u64 = 3;
    /// `PMD_TYPE_SECT` (pgtable-3level-hwdef.h): a block.
    pub const PMD_TYPE_SECT: u64 = 1;
    /// `PMD_TABLE_BIT` (pgtable-3level-hwdef.h): bit 1.
    pub const PMD_TABLE_BIT: u64 = 1 << 1;
    /// `PMD_SECT_USER` (pgtable-3level-hwdef.h): AP\[1\], bit 6.
    pub const PMD_SECT_USER: u64 = 1 << 6;
    /// `PMD_SECT_AP2` (pgtable-3level-hwdef.h): bit 7, read-only.
    pub const PMD_SECT_AP2: u64 = 1 << 7;
    /// `PMD_SECT_S` (pgtable-3level-hwdef.h): bits 8-9.
    pub const PMD_SECT_S: u64 = 3 << 8;
    /// `PMD_SECT_AF` (pgtable-3level-hwdef.h): bit 10.
    pub const PMD_SECT_AF: u64 = 1 << 10;
    /// `PMD_SECT_nG` (pgtable-3level-hwdef.h): bit 11.
    pub const PMD_SECT_NG: u64 = 1 << 11;
    /// `PMD_SECT_PXN` (pgtable-3level-hwdef.h): bit 53.
    pub const PMD_SECT_PXN: u64 = 1 << 53;
    /// `PMD_SECT_XN` (pgtable-3level-hwdef.h): bit 54.
    pub const PMD_SECT_XN: u64 = 1 << 54;
    /// `PMD_PXNTABLE` (pgtable-3level-hwdef.h): bit 59.
    pub const PMD_PXNTABLE: u64 = 1 << 59;
    /// `PTE_TYPE_PAGE` (pgtable-3level-hwdef.h).
    pub const PTE_TYPE_PAGE: u64 = 3;
    /// `PTE_TABLE_BIT` (pgtable-3level-hwdef.h): bit 1.
    pub const PTE_TABLE_BIT: u64 = 1 << 1;
    /// `PTE_AP2` (pgtable-3level-hwdef.h): bit 7.
    pub const PTE_AP2: u64 = 1 << 7;
    /// `PTE_EXT_AF` (pgtable-3level-hwdef.h): bit 10.
    pub const PTE_EXT_AF: u64 = 1 << 10;
    /// `PTE_EXT_NG` (pgtable-3level-hwdef.h): bit 11.
    pub const PTE_EXT_NG: u64 = 1 << 11;
    /// `PTE_EXT_PXN` (pgtable-3level-hwdef.h): bit 53.
    pub const PTE_EXT_PXN: u64 = 1 << 53;
    /// `PTE_EXT_XN` (pgtable-3level-hwdef.h): bit 54.
    pub const PTE_EXT_XN: u64 = 1 << 54;

    // ---- software section bits (pgtable-3level.h) -----------------------

    /// `L_PMD_SECT_VALID` (pgtable-3level.h): bit 0.
    pub const L_PMD_SECT_VALID: u64 = 1 << 0;
    /// `L_PMD_SECT_DIRTY` (pgtable-3level.h): bit 55.
    pub const L_PMD_SECT_DIRTY: u64 = 1 << 55;
    /// `L_PMD_SECT_NONE` (pgtable-3level.h): bit 57.
    pub const L_PMD_SECT_NONE: u64 = 1 << 57;
    /// `L_PMD_SECT_RDONLY` (pgtable-3level.h): bit 58.
    pub const L_PMD_SECT_RDONLY: u64 = 1 << 58;

    // ---- geometry and masks ---------------------------------------------

    /// `PAGE_SHIFT`.
    pub const PAGE_SHIFT: u32 = 12;
    /// `PHYS_MASK` (pgtable-3level-types.h, `PHYS_MASK_SHIFT` 40).
    pub const PHYS_MASK: u64 = (1 << 40) - 1;
    /// `(s32)PAGE_MASK`, sign-extended to 64 bits.
    pub const PAGE_MASK: u64 = !0xfff;
    /// `PMD_MASK` (pgtable-3level.h: `~((1 << PMD_SHIFT) - 1)`, an `int`,
    /// sign-extended).
    pub const PMD_MASK: u64 = !((1 << 21) - 1);

    // ---- protections ----------------------------------------------------

    /// `_L_PTE_DEFAULT` (pgtable.h): `L_PTE_PRESENT | L_PTE_YOUNG`.
    pub const _L_PTE_DEFAULT: u64 = L_PTE_PRESENT | L_PTE_YOUNG;
    /// `user_pgprot` on ARMv7 SMP (mm/mmu.c): write-alloc plus shared.
    pub const USER_PGPROT: u64 = L_PTE_MT_WRITEALLOC | L_PTE_SHARED;

    /// `protection_map[flags]` (mm/mmu.c) with the LPAE bit values.
    pub const fn vm_get_page_prot(flags: u8) -> u64 {
        let user = L_PTE_USER;
        let base = match flags & 0xf {
            0x0 | 0x8 => _L_PTE_DEFAULT | L_PTE_RDONLY | L_PTE_XN | L_PTE_NONE,
            0x1 | 0x9 | 0x2 | 0x3 => _L_PTE_DEFAULT | user | L_PTE_RDONLY | L_PTE_XN,
            0x4 | 0x5 | 0xc | 0xd | 0x6 | 0x7 => _L_PTE_DEFAULT | user | L_PTE_RDONLY,
            0xa | 0xb => _L_PTE_DEFAULT | user | L_PTE_XN,
            _ => _L_PTE_DEFAULT | user,
        };
        base | USER_PGPROT
    }

    /// `pte_valid_user()` (pgtable.h).
    pub const fn pte_valid_user(pte: u64) -> bool {
        pte & L_PTE_VALID != 0 && pte & L_PTE_USER != 0 && pte & L_PTE_YOUNG != 0
    }

    /// What `set_pte_ext(ptep, pte, ext)` stores on LPAE: pgtable-3level.h
    /// ORs `ext` into the pte (`cpu_set_pte_ext(ptep, __pte(pte_val(pte) |
    /// (ext)))`), then `cpu_v7_set_pte_ext` (proc-v7-3level.S) leaves a
    /// non-valid pte alone, clears `L_PTE_VALID` of a valid `L_PTE_NONE`
    /// pte, and otherwise sets `PTE_AP2` iff `!L_PTE_DIRTY ||
    /// L_PTE_RDONLY` (clearing it otherwise), and stores all 64 bits.
    pub const fn set_pte_ext(pte: u64, ext: u64) -> u64 {
        let mut v = pte | ext;
        if v & L_PTE_VALID == 0 {
            return v;
        }
        if v & L_PTE_NONE != 0 {
            v &= !L_PTE_VALID;
        } else if v & L_PTE_DIRTY == 0 || v & L_PTE_RDONLY != 0 {
            v |= PTE_AP2;
        } else {
            v &= !PTE_AP2;
        }
        v
    }

    /// The `ext` of `set_ptes()` for a user address (mm/mmu.c).
    pub const fn user_ext(pte: u64) -> u64 {
        if pte_valid_user(pte) {
            PTE_EXT_NG
        } else {
            0
        }
    }

    /// What `set_pmd_at()` (pgtable-3level.h) stores: PROT_NONE clears
    /// `L_PMD_SECT_VALID`; `PMD_SECT_AP2` is cleared when the pmd is
    /// writable and dirty and set otherwise; `PMD_SECT_nG` is always set.
    pub const fn set_pmd_at(pmd: u64) -> u64 {
        let mut v = pmd;
        if v & L_PMD_SECT_NONE != 0 {
            v &= !L_PMD_SECT_VALID;
        }
        if v & L_PMD_SECT_RDONLY == 0 && v & L_PMD_SECT_DIRTY != 0 {
            v &= !PMD_SECT_AP2;
        } else {
            v |= PMD_SECT_AP2;
        }
        v | PMD_SECT_NG
    }

    /// `pmd_pfn()` (pgtable-3level.h): `((pmd_val(pmd) & PMD_MASK) &
    /// PHYS_MASK) >> PAGE_SHIFT`.
    pub const fn pmd_pfn(pmd: u64) -> u64 {
        (pmd & PMD_MASK & PHYS_MASK) >> PAGE_SHIFT
    }

    /// `pmd_page_vaddr()`/`pud_pgtable()` (pgtable-3level.h) as a physical
    /// address: `val & PHYS_MASK & (s32)PAGE_MASK`.
    pub const fn table_pa(v: u64) -> u64 {
        v & PHYS_MASK & PAGE_MASK
    }
}

/// The swap types this architecture's kernel configures
/// (`include/linux/swap.h`): `CONFIG_MIGRATION` (3) and PTE markers (1);
/// no `SWP_DEVICE_*` (`ZONE_DEVICE` depends on `ARCH_HAS_PTE_DEVMAP`, which
/// this architecture does not select, mm/Kconfig) and no `SWP_HWPOISON`
/// (`MEMORY_FAILURE` depends on `ARCH_SUPPORTS_MEMORY_FAILURE`, not
/// selected either).  So `MAX_SWAPFILES` is 32 - 3 - 1 = 28, as the kernel
/// oracle reports (`ptlab oracle test`, constant `MAX_SWAPFILES`).
pub const SWAP_TYPES: mm_core::swapops::SwapTypes =
    mm_core::swapops::SwapTypes::MIGRATION_AND_MARKERS;

#[cfg(test)]
mod oracle_pins {
    //! Values the kernel oracle (`ptlab oracle test`) computed, pinned.
    use super::*;

    #[test]
    fn swap_types_are_the_kernels() {
        // Kernel oracle (Linux 6.12): MAX_SWAPFILES 0x1c,
        // SWP_MIGRATION_READ 0x1c, SWP_MIGRATION_WRITE 0x1e.
        assert_eq!(SWAP_TYPES.max_swapfiles(), 28);
        assert_eq!(SWAP_TYPES.migration_read(), 28);
        assert_eq!(SWAP_TYPES.migration_write(), 30);
        assert_eq!(SWAP_TYPES.pte_marker_type(), 31);
    }
}
