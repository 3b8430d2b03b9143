# A stand-in for the SlicerConfig.cmake of a Slicer build, so that the extension's CMake can
# be configured and installed without Slicer (Testing/test_cmake_configure.py).
#
# It provides what an extension's CMakeLists.txt takes from Slicer: the variables
# Slicer_USE_FILE, Slicer_EXTENSION_GENERATE_CONFIG and Slicer_EXTENSION_CPACK (each names a
# file to include), the module folders, and the macros slicerMacroBuildScriptedModule and
# slicer_add_python_unittest.
#
# With -DIPV2_SLICER_SOURCE_DIR=<Slicer source> -DIPV2_CTK_SOURCE_DIR=<CTK source>, Slicer's
# and CTK's own macro files are included instead of the stand-ins (SlicerMacroBuildScriptedModule,
# ctkMacroCompilePythonScript, SlicerExtensionGenerateConfig; and SlicerExtensionCPack up to
# its sanity checks, since packaging needs a built CTKAppLauncher).

set(Slicer_FOUND TRUE)
set(Slicer_USE_PYTHONQT ON)
set(Slicer_REVISION "0")
set(Slicer_OS "linux")
set(Slicer_ARCHITECTURE "amd64")
set(Slicer_QTSCRIPTEDMODULES_LIB_DIR "lib/Slicer-5.12/qt-scripted-modules")
set(Slicer_QTLOADABLEMODULES_LIB_DIR "lib/Slicer-5.12/qt-loadable-modules")
set(Slicer_CLIMODULES_LIB_DIR "lib/Slicer-5.12/cli-modules")
set(Slicer_USE_FILE "${CMAKE_CURRENT_LIST_DIR}/UseSlicer.cmake")

if(IPV2_SLICER_SOURCE_DIR AND IPV2_CTK_SOURCE_DIR)
  set(Slicer_CMAKE_DIR "${IPV2_SLICER_SOURCE_DIR}/CMake")
  set(CTK_CMAKE_DIR "${IPV2_CTK_SOURCE_DIR}/CMake")
  list(APPEND CMAKE_MODULE_PATH "${Slicer_CMAKE_DIR}" "${CTK_CMAKE_DIR}")
  set(Slicer_EXTENSION_GENERATE_CONFIG "${Slicer_CMAKE_DIR}/SlicerExtensionGenerateConfig.cmake")
  set(Slicer_EXTENSION_CPACK "${Slicer_CMAKE_DIR}/SlicerExtensionCPack.cmake")
  set(IPV2_REAL_SLICER_MACROS TRUE)
else()
  set(Slicer_EXTENSION_GENERATE_CONFIG "${CMAKE_CURRENT_LIST_DIR}/StandInExtensionGenerateConfig.cmake")
  set(Slicer_EXTENSION_CPACK "${CMAKE_CURRENT_LIST_DIR}/StandInExtensionCPack.cmake")
  set(IPV2_REAL_SLICER_MACROS FALSE)
endif()
