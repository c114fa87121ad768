// Package blob stores opaque objects (Ward keeps only ciphertext in them)
// behind one small interface, Store, with two implementations: Dir, a local
// directory (the embedded default, under DATA_DIR), and S3, a bucket on any
// S3-compatible server.
//
// Rules every Store keeps:
//
//   - Keys are relative slash-separated paths of the characters
//     [A-Za-z0-9/_.-], like "orgs/<org uuid>/obj/<uuid>": no empty, "." or
//     ".." segment, no segment starting with a dot (Dir keeps its temporary
//     files under such names), no leading or trailing slash. Keys never
//     carry PHI; CheckKey enforces the syntax.
//   - Put returns only once the object is durable (Dir: temporary file in
//     the same directory, fsync, rename, fsync of the directory; S3: upload
//     completed). A failed or cancelled Put leaves no object at its key, and
//     its memory does not grow with the object's size.
//   - Open and Size of a missing key return an error wrapping ErrNotFound;
//     Delete of a missing key succeeds.
//   - List reports every object under a prefix with its last-modified time,
//     so a sweeper can remove objects that no committed row references.
//
// Error texts may carry valid keys, bucket names and paths, never object
// bytes; an invalid key is never quoted.
package blob
