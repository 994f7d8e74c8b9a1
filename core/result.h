// Result<T>: a value or a user-facing error message. Plateau never aborts on bad input; every
// failure that a user can cause travels as one of these, its message naming the file and field.
// Plain data, safe to move between threads.
#pragma once

#include <QString>
#include <optional>
#include <utility>

namespace plateau {

struct Error {
    QString message;  // one line, names the file and the field or the cause
};

template <class T>
class Result {
public:
    Result(T value) : m_value(std::move(value)) {}               // NOLINT: implicit by design
    Result(Error error) : m_error(std::move(error.message)) {}   // NOLINT: implicit by design

    bool ok() const { return m_value.has_value(); }
    explicit operator bool() const { return ok(); }
    const T& value() const& { return *m_value; }
    T& value() & { return *m_value; }
    T&& value() && { return std::move(*m_value); }
    const T* operator->() const { return &*m_value; }
    T* operator->() { return &*m_value; }
    const QString& error() const { return m_error; }

private:
    std::optional<T> m_value;
    QString m_error;
};

// Result<void> equivalent: empty error means success.
class Status {
public:
    Status() = default;
    Status(Error error) : m_error(std::move(error.message)) {}  // NOLINT: implicit by design
    static Status success() { return {}; }
    bool ok() const { return m_error.isEmpty(); }
    explicit operator bool() const { return ok(); }
    const QString& error() const { return m_error; }

private:
    QString m_error;
};

}  // namespace plateau
