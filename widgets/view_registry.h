// The view registry: an experiment's ViewSpec (experiment_info.h) -> a ThrottledView. Generic views
// read conventional snapshot names and metric columns (metrics, attention, spectra, matrices);
// a view that one experiment alone needs is registered here the same way. GUI thread only.
#pragma once

#include "experiment_info.h"

#include <QStringList>

class QWidget;

namespace plateau {

class SessionModel;
class ThrottledView;

// The view for spec, or null for an unknown kind (the caller reports it).
ThrottledView* createView(const ViewSpec& spec, SessionModel* model, QWidget* parent = nullptr);
QStringList viewKinds();

}  // namespace plateau
