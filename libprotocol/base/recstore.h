/* recstore.h - an append-only store of fixed-size records (a session's per-packet log) whose
 * memory is bounded: the first records stay in memory up to a byte budget, later ones go in
 * chunks to an unlinked temporary file. Reading walks the records in order as contiguous
 * runs, so a consumer written for an array (records, count) works run by run.
 *
 * Memory use: at most the budget, plus one write chunk and one read chunk (RST_CHUNK_BYTES
 * each) once the file is in use, whatever the number of records. */
#ifndef LP_RECSTORE_H
#define LP_RECSTORE_H

#include <stddef.h>
#include <stdint.h>

/* Size of the write and read chunks of the file part. */
#define RST_CHUNK_BYTES 65536

/* Memory budget used when the caller gives 0. */
#define RST_MEM_DEFAULT (256 * 1024)

struct rst;

/* A store of records of elem octets (1..RST_CHUNK_BYTES) keeping up to mem_bytes of them in
 * memory (0: RST_MEM_DEFAULT; at least one record). The file, if it is ever needed, is
 * created in dir (NULL: $TMPDIR, else /tmp) and never has a name. NULL on bad arguments or
 * allocation failure. */
struct rst *rst_create(size_t elem, size_t mem_bytes, const char *dir);

/* One more owner of st (e.g. a reader that may outlive the writer); returns st. */
struct rst *rst_retain(struct rst *st);

/* Drop one owner: the last one closes the file and frees everything; NULL is fine. */
void rst_destroy(struct rst *st);

/* Append one record (elem octets copied). 0, LP_E_NOMEM, or LP_E_IO when the file could not
 * be created or written (errno kept; the file is not tried again, so every later record that
 * needs it is refused at once); the record is then not stored. */
int rst_append(struct rst *st, const void *rec);

/* Records stored. */
uint64_t rst_count(const struct rst *st);

/* Records [i, i + n) as one contiguous run: *out points at them and n (>= 1) is returned;
 * the run stays valid until the next call on st. Returns 0 at or past the end, or when the
 * file could not be read (LP_E_IO then in *err when err is not NULL). Typical loop:
 *     for (uint64_t i = 0; (n = rst_get(st, i, &p, NULL)) > 0; i += n) use(p, n); */
size_t rst_get(struct rst *st, uint64_t i, const void **out, int *err);

/* Octets of memory the store holds now (budget in use plus chunks), for limits and benches. */
size_t rst_mem_bytes(const struct rst *st);

/* Records that went to the file. */
uint64_t rst_file_count(const struct rst *st);

#endif
