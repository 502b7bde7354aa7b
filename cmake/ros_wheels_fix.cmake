# Repairs the ROS 2 PyPI wheels (ros-kilted-*) for building against them; not needed, and never
# used, with a ROS install from apt or source.
#
# The wheels' <pkg>::<pkg>__rosidl_generator_py targets export the wheel build host's Python and
# numpy include folders (/opt/python/cp311-cp311/...), which do not exist here, so configuring
# any package with messages fails with "Imported target ... includes non-existent path". This
# rewrites those folders to the current interpreter's once all targets are imported.
#
# Use: pip install . includes it by itself (CMakeLists.txt, SKBUILD). For colcon on the wheels:
#   colcon build --cmake-args -DCMAKE_PROJECT_INCLUDE=<repo>/cmake/ros_wheels_fix.cmake
function(_ros_wheels_fix_py_includes)
  find_package(Python3 REQUIRED COMPONENTS Interpreter Development.Module NumPy)
  get_directory_property(_imported DIRECTORY "${CMAKE_SOURCE_DIR}" IMPORTED_TARGETS)
  foreach(_target IN LISTS _imported)
    get_target_property(_dirs ${_target} INTERFACE_INCLUDE_DIRECTORIES)
    if(_dirs AND "${_dirs}" MATCHES "/opt/python/")
      set(_fixed "")
      foreach(_dir IN LISTS _dirs)
        if(_dir MATCHES "^/opt/python/.*numpy")
          list(APPEND _fixed ${Python3_NumPy_INCLUDE_DIRS})
        elseif(_dir MATCHES "^/opt/python/")
          list(APPEND _fixed ${Python3_INCLUDE_DIRS})
        else()
          list(APPEND _fixed "${_dir}")
        endif()
      endforeach()
      set_target_properties(${_target} PROPERTIES INTERFACE_INCLUDE_DIRECTORIES "${_fixed}")
    endif()
  endforeach()
endfunction()

if(CMAKE_SOURCE_DIR STREQUAL CMAKE_CURRENT_SOURCE_DIR)
  cmake_language(DEFER DIRECTORY "${CMAKE_SOURCE_DIR}" CALL _ros_wheels_fix_py_includes)
endif()
