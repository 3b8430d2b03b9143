# Stand-in for Slicer's SlicerExtensionGenerateConfig.cmake: writes <Extension>Config.cmake.
file(WRITE "${EXTENSION_SUPERBUILD_BINARY_DIR}/${EXTENSION_BUILD_SUBDIRECTORY}/${EXTENSION_NAME}Config.cmake"
  "set(${EXTENSION_NAME}_SOURCE_DIR \"${CMAKE_SOURCE_DIR}\")\n")
