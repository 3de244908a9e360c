//! A SQLite VFS for the writer connection that hands a commit's WAL frames to the kernel in
//! one `pwrite`. SQLite writes each frame as two writes (a 24-byte header, then the page),
//! and the page straddles two kernel pages: two system calls and three page-cache updates
//! per frame (`docs/benchmarks.md`, "Measurements behind the code"). Here a WAL file
//! collects contiguous writes in memory and writes them out, in one call, before
//! anything that could observe them: a read, a size or truncate, a sync, a file control,
//! a write elsewhere, or close.
//!
//! Syncs of the WAL come in two kinds, told apart by their flags. The writer connection
//! runs with `synchronous = FULL` and `checkpoint_fullfsync = ON`, so SQLite asks for a
//! `SQLITE_SYNC_NORMAL` sync at each commit and a `SQLITE_SYNC_FULL` one for the WAL header
//! after a restart and before a checkpoint copies frames into the database. The commit
//! sync only writes the frames out: the `Syncer` thread (see `writer`) makes them durable
//! with one `fdatasync` per round, before any caller hears of the commit, as it did when
//! the writer ran with `synchronous = NORMAL`. The FULL syncs are real.
//!
//! Other files (the database, its shared memory) are the default VFS's own: `open` hands
//! them to it unchanged. Only the default `unix` VFS is wrapped; elsewhere `uri` returns
//! `None` and the writer opens its connection the ordinary way.

use std::ffi::{c_char, c_int, c_void, CStr};
use std::sync::OnceLock;

use libsqlite3_sys as ffi;

/// The VFS name the writer's connection URI asks for.
const NAME: &CStr = c"scim-seats-wal";

/// Pending bytes are written out when they reach this much (~500 KB): more than a batch of
/// creates writes; a large `/Bulk` request writes several buffers' worth.
const FLUSH_AT: usize = 4 * MAX_WRITE;

/// `file:` URI for `path` that opens it through this VFS, or `None` when the VFS is not
/// available (not registered, or `path` is already a URI).
pub fn uri(path: &str) -> Option<String> {
    if registered().is_err() || path.starts_with("file:") {
        return None;
    }
    let mut uri = String::with_capacity(path.len() + 32);
    uri.push_str("file:");
    for c in path.chars() {
        match c {
            '%' => uri.push_str("%25"),
            '?' => uri.push_str("%3f"),
            '#' => uri.push_str("%23"),
            c => uri.push(c),
        }
    }
    uri.push_str("?vfs=");
    uri.push_str(NAME.to_str().ok()?);
    Some(uri)
}

/// Registers the VFS once per process (not as the default); `Err` says why it is not used.
fn registered() -> Result<(), &'static str> {
    static REGISTERED: OnceLock<Result<(), &'static str>> = OnceLock::new();
    // SAFETY: `register` only reads the default VFS and registers a leaked copy of it.
    *REGISTERED.get_or_init(|| unsafe { register() })
}

/// A WAL file: SQLite's file object, then the default VFS's own file object, which lives
/// in the same allocation right after this struct (see `register`'s `szOsFile`).
#[repr(C)]
struct WalFile {
    base: ffi::sqlite3_file,
    inner: *mut ffi::sqlite3_file,
    /// Bytes written by SQLite but not yet handed to the inner file, starting at `at`.
    pending: Vec<u8>,
    at: i64,
}

/// Offset of the inner file object inside the allocation, 8-byte aligned.
const INNER_OFFSET: usize = (std::mem::size_of::<WalFile>() + 7) & !7;

/// The default VFS, wrapped (set once, by `register`).
static INNER_VFS: OnceLock<usize> = OnceLock::new();

fn inner_vfs() -> *mut ffi::sqlite3_vfs {
    INNER_VFS
        .get()
        .map_or(std::ptr::null_mut(), |&p| p as *mut _)
}

/// Registers a copy of the default VFS, with this module's `open`, under `NAME`.
///
/// # Safety
/// Call once per process (`registered` does), before any connection asks for `NAME`.
unsafe fn register() -> Result<(), &'static str> {
    // SAFETY: a null name asks SQLite for the default VFS; SQLite initializes itself first.
    let inner = unsafe { ffi::sqlite3_vfs_find(std::ptr::null()) };
    if inner.is_null() {
        return Err("no default SQLite VFS");
    }
    // SAFETY: `inner` is a registered VFS, which SQLite never frees: its `zName` is a
    // NUL-terminated string that lives as long as the process.
    if unsafe { CStr::from_ptr((*inner).zName) } != c"unix" {
        return Err("the default SQLite VFS is not unix");
    }
    let _ = INNER_VFS.set(inner as usize);
    // The unix VFS reads `pAppData` in xOpen only, and open passes it the inner VFS; its
    // other methods ignore the VFS pointer, so they are shared as they are.
    // SAFETY: `inner` points to a valid `sqlite3_vfs` (above); the copy is plain data
    // (numbers and pointers to the unix VFS's static functions and strings).
    let mut vfs: ffi::sqlite3_vfs = unsafe { std::ptr::read(inner) };
    vfs.szOsFile += INNER_OFFSET as c_int;
    vfs.zName = NAME.as_ptr();
    vfs.pNext = std::ptr::null_mut();
    vfs.xOpen = Some(open);
    let vfs: &'static mut ffi::sqlite3_vfs = Box::leak(Box::new(vfs));
    // SAFETY: SQLite keeps the pointer for the life of the process: the VFS is leaked, and
    // its name is a static string.
    match unsafe { ffi::sqlite3_vfs_register(vfs, 0) } {
        ffi::SQLITE_OK => Ok(()),
        _ => Err("registering the WAL VFS failed"),
    }
}

/// The VFS's xOpen. SQLite allocates `file` with `szOsFile` bytes (8-byte aligned, as
/// every SQLite allocation is): room for a `WalFile` and, at `INNER_OFFSET`, the inner
/// VFS's file object.
///
/// # Safety
/// Called by SQLite only, with the arguments of an xOpen of this VFS.
unsafe extern "C" fn open(
    _vfs: *mut ffi::sqlite3_vfs,
    name: *const c_char,
    file: *mut ffi::sqlite3_file,
    flags: c_int,
    out_flags: *mut c_int,
) -> c_int {
    let inner = inner_vfs();
    // SAFETY: `inner` is null or the default VFS, which SQLite never frees (`register`).
    let Some(inner_open) = (unsafe { inner.as_ref() }).and_then(|v| v.xOpen) else {
        return ffi::SQLITE_ERROR;
    };
    if flags & ffi::SQLITE_OPEN_WAL == 0 {
        // SAFETY: the allocation is at least the inner VFS's size, so the file is its own;
        // the other arguments are SQLite's, passed on as they came.
        return unsafe { inner_open(inner, name, file, flags, out_flags) };
    }
    // SAFETY: `INNER_OFFSET` plus the inner VFS's `szOsFile` is the allocation's size
    // (`register`), so the offset stays inside it.
    let inner_file = unsafe { file.cast::<u8>().add(INNER_OFFSET) }.cast::<ffi::sqlite3_file>();
    // SAFETY: `inner_file` is the inner VFS's share of the allocation, suitably aligned
    // (`INNER_OFFSET` is a multiple of 8); the other arguments are SQLite's.
    let rc = unsafe { inner_open(inner, name, inner_file, flags, out_flags) };
    if rc != ffi::SQLITE_OK {
        // SQLite calls xClose only on a file whose pMethods is set: ours stays null, and
        // the inner file's is the inner VFS's to clean up, as after any failed open.
        // SAFETY: `inner_file` was written by the inner VFS's xOpen, which leaves
        // `pMethods` null or pointing at its static methods.
        unsafe {
            if !(*inner_file).pMethods.is_null() {
                if let Some(close) = (*(*inner_file).pMethods).xClose {
                    close(inner_file);
                }
            }
        }
        return rc;
    }
    // SAFETY: the allocation starts with room for a `WalFile` (`INNER_OFFSET` bytes) and is
    // 8-byte aligned; SQLite has not initialized it, so nothing is overwritten that needs
    // dropping.
    unsafe {
        std::ptr::write(
            file.cast::<WalFile>(),
            WalFile {
                base: ffi::sqlite3_file {
                    pMethods: &WAL_METHODS,
                },
                inner: inner_file,
                pending: Vec::new(),
                at: 0,
            },
        );
    }
    ffi::SQLITE_OK
}

static WAL_METHODS: ffi::sqlite3_io_methods = ffi::sqlite3_io_methods {
    iVersion: 3,
    xClose: Some(close),
    xRead: Some(read),
    xWrite: Some(write),
    xTruncate: Some(truncate),
    xSync: Some(sync),
    xFileSize: Some(file_size),
    xLock: Some(lock),
    xUnlock: Some(unlock),
    xCheckReservedLock: Some(check_reserved_lock),
    xFileControl: Some(file_control),
    xSectorSize: Some(sector_size),
    xDeviceCharacteristics: Some(device_characteristics),
    xShmMap: Some(shm_map),
    xShmLock: Some(shm_lock),
    xShmBarrier: Some(shm_barrier),
    xShmUnmap: Some(shm_unmap),
    xFetch: Some(fetch),
    xUnfetch: Some(unfetch),
};

// Every method below is called by SQLite only, with a `file` whose `pMethods` is
// `WAL_METHODS`: one `open` initialized as a `WalFile`, whose `inner` is an open file of the
// inner VFS, used by one thread at a time (SQLite holds the connection's mutex, or the
// connection is used by one thread only), and not yet closed (xClose is the last call).

/// The `WalFile` SQLite hands a method.
///
/// # Safety
/// `file` is a file this VFS's `open` initialized and that is not closed yet, and no other
/// reference to it is alive (see above).
unsafe fn wal<'a>(file: *mut ffi::sqlite3_file) -> &'a mut WalFile {
    // SAFETY: the caller's promise: an initialized `WalFile`, borrowed by nobody else.
    unsafe { &mut *file.cast::<WalFile>() }
}

/// The inner file's methods.
///
/// # Safety
/// `f.inner` is an open file of the inner VFS (as every `WalFile`'s is until it closes).
unsafe fn methods(f: &WalFile) -> &ffi::sqlite3_io_methods {
    // SAFETY: an open file's `pMethods` points at its VFS's static methods table.
    unsafe { &*(*f.inner).pMethods }
}

/// Calls the inner file's method `$m` with the remaining arguments; `SQLITE_IOERR` if the
/// inner VFS has no such method. Use inside an unsafe block of a method (above).
macro_rules! inner {
    ($f:expr, $m:ident $(, $arg:expr)*) => {
        match methods($f).$m {
            Some(m) => m($f.inner $(, $arg)*),
            None => ffi::SQLITE_IOERR,
        }
    };
}

/// The most the unix VFS writes in one call: it masks a write's length to 17 bits.
const MAX_WRITE: usize = 0x1ffff & !0xfff;

/// Hands the pending bytes to the inner file, in writes of at most `MAX_WRITE`. They are
/// dropped whatever the outcome: a failed write fails the transaction that made them, and
/// SQLite rolls it back.
///
/// # Safety
/// `f.inner` is an open file of the inner VFS.
unsafe fn flush(f: &mut WalFile) -> c_int {
    let mut rc = ffi::SQLITE_OK;
    let mut at = f.at;
    for chunk in f.pending.chunks(MAX_WRITE) {
        // MAX_WRITE fits a c_int.
        let len = chunk.len() as c_int;
        // SAFETY: the caller's promise about `f.inner`; the buffer is `len` readable bytes.
        rc = unsafe { inner!(f, xWrite, chunk.as_ptr().cast::<c_void>(), len, at) };
        if rc != ffi::SQLITE_OK {
            break;
        }
        at += i64::from(len);
    }
    f.pending.clear();
    rc
}

/// Runs `then` after a successful flush; a failed flush is the answer instead. Use inside
/// an unsafe block of a method.
macro_rules! flushed {
    ($f:expr, $then:expr) => {{
        let rc = flush($f);
        if rc != ffi::SQLITE_OK {
            return rc;
        }
        $then
    }};
}

unsafe extern "C" fn write(
    file: *mut ffi::sqlite3_file,
    buf: *const c_void,
    amount: c_int,
    offset: i64,
) -> c_int {
    let Ok(len) = usize::try_from(amount) else {
        return ffi::SQLITE_IOERR_WRITE;
    };
    // SAFETY: a method's `file` (above); SQLite's `buf` holds `amount` readable bytes for
    // the length of the call, and they are copied before it returns.
    unsafe {
        let f = wal(file);
        let contiguous = f.at + f.pending.len() as i64 == offset;
        if !contiguous {
            flushed!(f, ());
            f.at = offset;
        }
        f.pending
            .extend_from_slice(std::slice::from_raw_parts(buf.cast::<u8>(), len));
        if f.pending.len() >= FLUSH_AT {
            return flush(f);
        }
    }
    ffi::SQLITE_OK
}

unsafe extern "C" fn sync(file: *mut ffi::sqlite3_file, flags: c_int) -> c_int {
    // SAFETY: a method's `file` (above).
    unsafe {
        let f = wal(file);
        flushed!(f, {
            if flags & 0x0f == ffi::SQLITE_SYNC_FULL {
                inner!(f, xSync, flags)
            } else {
                // A commit's sync: durable through the writer's Syncer (module docs).
                ffi::SQLITE_OK
            }
        })
    }
}

unsafe extern "C" fn close(file: *mut ffi::sqlite3_file) -> c_int {
    // SAFETY: a method's `file` (above); xClose is its last call, so the pending buffer is
    // dropped here once and never used again (SQLite frees the allocation itself).
    unsafe {
        let f = wal(file);
        let flushed = flush(f);
        let closed = inner!(f, xClose);
        std::ptr::drop_in_place(&mut f.pending);
        if flushed != ffi::SQLITE_OK {
            flushed
        } else {
            closed
        }
    }
}

unsafe extern "C" fn read(
    file: *mut ffi::sqlite3_file,
    buf: *mut c_void,
    amount: c_int,
    offset: i64,
) -> c_int {
    // SAFETY: a method's `file` (above); SQLite's arguments are passed on as they came.
    unsafe {
        let f = wal(file);
        flushed!(f, inner!(f, xRead, buf, amount, offset))
    }
}

unsafe extern "C" fn truncate(file: *mut ffi::sqlite3_file, size: i64) -> c_int {
    // SAFETY: a method's `file` (above).
    unsafe {
        let f = wal(file);
        flushed!(f, inner!(f, xTruncate, size))
    }
}

unsafe extern "C" fn file_size(file: *mut ffi::sqlite3_file, size: *mut i64) -> c_int {
    // SAFETY: a method's `file` (above); SQLite's `size` is passed on as it came.
    unsafe {
        let f = wal(file);
        flushed!(f, inner!(f, xFileSize, size))
    }
}

unsafe extern "C" fn file_control(
    file: *mut ffi::sqlite3_file,
    op: c_int,
    arg: *mut c_void,
) -> c_int {
    // SAFETY: a method's `file` (above); SQLite's arguments are passed on as they came.
    unsafe {
        let f = wal(file);
        flushed!(f, inner!(f, xFileControl, op, arg))
    }
}

unsafe extern "C" fn fetch(
    file: *mut ffi::sqlite3_file,
    offset: i64,
    amount: c_int,
    out: *mut *mut c_void,
) -> c_int {
    // SAFETY: a method's `file` (above); SQLite's arguments are passed on as they came.
    unsafe {
        let f = wal(file);
        flushed!(f, inner!(f, xFetch, offset, amount, out))
    }
}

// The rest neither read nor write file contents: straight to the inner file. Each passes
// SQLite's arguments on as they came.

unsafe extern "C" fn lock(file: *mut ffi::sqlite3_file, level: c_int) -> c_int {
    // SAFETY: a method's `file` (above).
    unsafe {
        let f = wal(file);
        inner!(f, xLock, level)
    }
}

unsafe extern "C" fn unlock(file: *mut ffi::sqlite3_file, level: c_int) -> c_int {
    // SAFETY: a method's `file` (above).
    unsafe {
        let f = wal(file);
        inner!(f, xUnlock, level)
    }
}

unsafe extern "C" fn check_reserved_lock(file: *mut ffi::sqlite3_file, out: *mut c_int) -> c_int {
    // SAFETY: a method's `file` (above).
    unsafe {
        let f = wal(file);
        inner!(f, xCheckReservedLock, out)
    }
}

unsafe extern "C" fn sector_size(file: *mut ffi::sqlite3_file) -> c_int {
    // SAFETY: a method's `file` (above).
    unsafe {
        let f = wal(file);
        inner!(f, xSectorSize)
    }
}

unsafe extern "C" fn device_characteristics(file: *mut ffi::sqlite3_file) -> c_int {
    // SAFETY: a method's `file` (above).
    unsafe {
        let f = wal(file);
        match methods(f).xDeviceCharacteristics {
            Some(m) => m(f.inner),
            None => 0,
        }
    }
}

unsafe extern "C" fn shm_map(
    file: *mut ffi::sqlite3_file,
    page: c_int,
    size: c_int,
    extend: c_int,
    out: *mut *mut c_void,
) -> c_int {
    // SAFETY: a method's `file` (above).
    unsafe {
        let f = wal(file);
        inner!(f, xShmMap, page, size, extend, out)
    }
}

unsafe extern "C" fn shm_lock(
    file: *mut ffi::sqlite3_file,
    offset: c_int,
    n: c_int,
    flags: c_int,
) -> c_int {
    // SAFETY: a method's `file` (above).
    unsafe {
        let f = wal(file);
        inner!(f, xShmLock, offset, n, flags)
    }
}

unsafe extern "C" fn shm_barrier(file: *mut ffi::sqlite3_file) {
    // SAFETY: a method's `file` (above).
    unsafe {
        let f = wal(file);
        if let Some(m) = methods(f).xShmBarrier {
            m(f.inner);
        }
    }
}

unsafe extern "C" fn shm_unmap(file: *mut ffi::sqlite3_file, delete: c_int) -> c_int {
    // SAFETY: a method's `file` (above).
    unsafe {
        let f = wal(file);
        inner!(f, xShmUnmap, delete)
    }
}

unsafe extern "C" fn unfetch(
    file: *mut ffi::sqlite3_file,
    offset: i64,
    page: *mut c_void,
) -> c_int {
    // SAFETY: a method's `file` (above).
    unsafe {
        let f = wal(file);
        inner!(f, xUnfetch, offset, page)
    }
}

#[cfg(test)]
mod tests {
    use diesel::connection::SimpleConnection;
    use diesel::prelude::*;
    use diesel::sql_types::{BigInt, Text};

    use super::*;

    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }

    #[derive(QueryableByName)]
    struct Line {
        #[diesel(sql_type = Text)]
        line: String,
    }

    fn count(conn: &mut SqliteConnection) -> i64 {
        diesel::sql_query("SELECT count(*) AS n FROM t")
            .get_result::<Count>(conn)
            .expect("count")
            .n
    }

    /// A path for a new database in a directory that lives as long as the guard.
    fn fresh_db() -> (tempfile::TempDir, String) {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("db.sqlite");
        let path = path.to_str().expect("utf-8 path").to_string();
        (dir, path)
    }

    /// A connection through the VFS, set up the way the writer's is.
    fn through_vfs(path: &str) -> SqliteConnection {
        let uri = uri(path).expect("the unix VFS is wrapped");
        let mut conn = SqliteConnection::establish(&uri).expect("open through the VFS");
        conn.batch_execute(
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; \
             PRAGMA checkpoint_fullfsync = ON; PRAGMA wal_autocheckpoint = 0;",
        )
        .expect("pragmas");
        conn
    }

    /// A connection through the VFS to a fresh database at `path` with the table `t`.
    fn vfs_with_table(path: &str) -> SqliteConnection {
        let mut conn = through_vfs(path);
        conn.batch_execute("CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT)")
            .expect("create");
        conn
    }

    /// SQL inserting `rows` rows into `t`, each with `bytes` random bytes in hex.
    fn insert_rows(rows: u32, bytes: u32) -> String {
        format!(
            "INSERT INTO t (body) SELECT hex(randomblob({bytes})) FROM \
             (WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < {rows}) \
             SELECT i FROM c);"
        )
    }

    #[test]
    fn paths_become_uris_that_keep_every_character() {
        assert_eq!(
            uri("/data/a b%c?d#e.db").as_deref(),
            Some("file:/data/a b%25c%3fd%23e.db?vfs=scim-seats-wal")
        );
        assert_eq!(uri("file:x.db?mode=rwc"), None);
        // The escaped path opens the file of that name.
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("odd %25 ? # name.db");
        let path = path.to_str().expect("utf-8 path");
        through_vfs(path)
            .batch_execute("CREATE TABLE t (x INTEGER)")
            .expect("create");
        assert!(std::path::Path::new(path).exists());
    }

    #[test]
    fn committed_frames_are_seen_by_other_connections_and_survive_reopening() {
        let (_dir, path) = fresh_db();
        let path = path.as_str();
        let mut writer = vfs_with_table(path);
        // A small cache makes the big transaction spill pages into the WAL before its commit
        // and write some of them again (writes out of order, and reads of the WAL); 3 MB of
        // rows is several flushes, each several writes.
        writer
            .batch_execute("PRAGMA cache_size = 20;")
            .expect("cache size");
        let mut reader = SqliteConnection::establish(path).expect("plain connection");
        writer.batch_execute("BEGIN IMMEDIATE").expect("begin");
        let batch = insert_rows(100, 500) + "UPDATE t SET body = body || 'x' WHERE id % 7 = 0;";
        for _ in 0..30 {
            writer.batch_execute(&batch).expect("insert");
        }
        assert_eq!(count(&mut reader), 0, "uncommitted rows are invisible");
        writer.batch_execute("COMMIT").expect("commit");
        assert_eq!(count(&mut reader), 3000);
        // A transaction rolled back leaves nothing behind, and the next commit is whole.
        writer
            .batch_execute("BEGIN; DELETE FROM t; ROLLBACK;")
            .expect("rollback");
        writer
            .batch_execute("INSERT INTO t (body) VALUES ('last')")
            .expect("insert");
        assert_eq!(count(&mut reader), 3001);
        drop(reader);
        drop(writer);
        let mut reopened = SqliteConnection::establish(path).expect("reopen");
        assert_eq!(count(&mut reopened), 3001);
        let check = diesel::sql_query("SELECT integrity_check AS line FROM pragma_integrity_check")
            .load::<Line>(&mut reopened)
            .expect("integrity_check");
        assert_eq!(
            check.iter().map(|l| l.line.as_str()).collect::<Vec<_>>(),
            ["ok"]
        );
    }

    #[test]
    fn a_checkpoint_through_the_vfs_restarts_the_wal() {
        let (_dir, path) = fresh_db();
        let path = path.as_str();
        let mut writer = vfs_with_table(path);
        for round in 0..3 {
            writer
                .batch_execute(&insert_rows(200, 2000))
                .expect("insert");
            writer
                .batch_execute("PRAGMA wal_checkpoint(RESTART);")
                .expect("checkpoint");
            // The next commit writes from the WAL's start again, header first.
            writer
                .batch_execute("INSERT INTO t (body) VALUES ('after restart')")
                .expect("insert");
            let mut reader = SqliteConnection::establish(path).expect("plain connection");
            assert_eq!(count(&mut reader), (round + 1) * 201);
        }
    }
}
