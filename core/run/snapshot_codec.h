// Snapshot codec: a Snapshot as one compressed binary blob (the `data` column of the run's
// snapshots table) and back. Version 2: a header (step, time, probe, token layout), then named
// arrays {name, type f32|u8|i32, shape, data} and named scalars; decoding checks every count
// against its shape so that a damaged or foreign blob gives a clear error instead of a crash.
// Version-1 blobs (matrix completion's fixed fields, runs written before experiments existed)
// decode into the conventional names (snapshot.h). No torch; any thread.
#pragma once

#include "result.h"
#include "snapshot.h"

#include <QByteArray>

namespace plateau {

constexpr int kSnapshotFormatVersion = 2;

QByteArray encodeSnapshot(const Snapshot& s);
// `where` names the source in errors (e.g. "run/metrics.sqlite, snapshot at step 400").
Result<Snapshot> decodeSnapshot(const QByteArray& blob, const QString& where);

}  // namespace plateau
