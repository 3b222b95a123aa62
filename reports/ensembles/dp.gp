# Drawn by hecnn; render with: gnuplot reports/ensembles/dp.gp
set terminal svg size 800,500 dynamic enhanced font 'sans,12' background rgb 'white'
set output 'reports/ensembles/dp.svg'
set title 'Encrypted stacked ensemble with laplace noise' noenhanced
set xlabel 'epsilon (log scale ticks at the measured values)' noenhanced
set ylabel 'test accuracy, encrypted (%)' noenhanced
set grid lc rgb '#dddddd'
set key outside right top noenhanced
set border lc rgb '#555555'
set yrange [0.000000:100.000000]
set style line 1 lc rgb '#1f77b4' lw 1.5 dt 1 pt 1
set style line 2 lc rgb '#d62728' lw 1.5 dt 1 pt 2
set style line 3 lc rgb '#2ca02c' lw 1.5 dt 1 pt 3
plot 'reports/ensembles/dp.dat' index 0 using 1:2 with linespoints ls 1 title 'regular setting 5', \
     'reports/ensembles/dp.dat' index 1 using 1:2 with linespoints ls 2 title 'likewise setting 5', \
     'reports/ensembles/dp.dat' index 2 using 1:2 with linespoints ls 3 title 'random setting 5'
