# Training-layer tests (need libtorch). Fast tier: tiny synthetic data, one thread.
# Slow tier: real MNIST (run scripts/setup.sh first), minutes of training.
hecnn_add_test(test_train LABEL fast
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/trainer_test.cpp ${CMAKE_CURRENT_LIST_DIR}/activation_test.cpp
          ${CMAKE_CURRENT_LIST_DIR}/qat_test.cpp
  DEPS hecnn_train hecnn_runtime)
hecnn_add_test(test_train_slow LABEL slow
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/mnist_slow_test.cpp
  DEPS hecnn_train)
