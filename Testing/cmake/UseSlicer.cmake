# Stand-in for Slicer's UseSlicer.cmake: the extension defaults and install folders it sets,
# then the macros (Slicer's own, or the stand-ins of StandInMacros.cmake).

if(NOT DEFINED EXTENSION_NAME)
  set(EXTENSION_NAME ${PROJECT_NAME})
endif()
if(NOT DEFINED EXTENSION_BUILD_SUBDIRECTORY)
  set(EXTENSION_BUILD_SUBDIRECTORY ".")
endif()
set(EXTENSION_SUPERBUILD_BINARY_DIR ${CMAKE_BINARY_DIR})
if(NOT DEFINED EXTENSION_README_FILE)
  set(EXTENSION_README_FILE "${CMAKE_CURRENT_LIST_DIR}/SlicerReadmeStandIn.txt")
endif()
# As Slicer's UseSlicer.cmake does (v5.12.3 CMake/UseSlicer.cmake.in 381-386): the extension's
# own files when it sets them, else Slicer's.
if(NOT DEFINED EXTENSION_LICENSE_FILE)
  set(EXTENSION_LICENSE_FILE "${CMAKE_CURRENT_LIST_DIR}/SlicerLicenseStandIn.txt")
endif()
set(Slicer_INSTALL_QTSCRIPTEDMODULES_LIB_DIR "${Slicer_QTSCRIPTEDMODULES_LIB_DIR}")

if(IPV2_REAL_SLICER_MACROS)
  set(Slicer_SOURCE_DIR "${IPV2_SLICER_SOURCE_DIR}")  # stops SlicerExtensionCPack after its checks
  set(PYTHONINTERP_FOUND TRUE)
  set(PYTHONLIBS_FOUND TRUE)
  find_program(PYTHON_EXECUTABLE NAMES python3 python REQUIRED)
  set(PYTHON_LIBRARIES "python3")
  include(ctkFunctionExtractOptimizedLibrary)
  include(ctkMacroCompilePythonScript)
  include(SlicerMacroBuildScriptedModule)
  include(SlicerMacroConfigureGenericPythonModuleTests)
  include(SlicerMacroPythonTesting)
else()
  include("${CMAKE_CURRENT_LIST_DIR}/StandInMacros.cmake")
endif()
