// An array whose first few elements live inline: no allocation in the common case.
#pragma once

#include <cstddef>
#include <memory>

namespace pqnode {

// Sized once (Resize), by the parameters of a query or the columns of a result: a query
// has a handful of parameters and most results a handful of columns.
template <typename T, size_t kInline>
class SmallArray {
 public:
  void Resize(size_t size) {
    if (size > kInline) {
      heap_.reset(new T[size]());
      data_ = heap_.get();
    }
    size_ = size;
  }
  T& operator[](size_t index) { return data_[index]; }
  const T* data() const { return size_ == 0 ? nullptr : data_; }
  size_t size() const { return size_; }

 private:
  T inline_[kInline] = {};
  std::unique_ptr<T[]> heap_;
  T* data_ = inline_;
  size_t size_ = 0;
};

}  // namespace pqnode
