// Snapshot codec: a Snapshot as one compressed binary blob (the `data` column of the run's
// snapshots table) and back. Versioned; decoding checks every size against the header so that a
// damaged or foreign blob gives a clear error instead of a crash. No torch; any thread.
#pragma once

#include "result.h"
#include "snapshot.h"

#include <QByteArray>

namespace plateau {

constexpr int kSnapshotFormatVersion = 1;

QByteArray encodeSnapshot(const Snapshot& s);
// `where` names the source in errors (e.g. "run/metrics.sqlite, snapshot at step 400").
Result<Snapshot> decodeSnapshot(const QByteArray& blob, const QString& where);

}  // namespace plateau
